import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, runCli} from '../support/cli.js'
import {ULID, api} from '../support/control.js'
import {Sandbox, until} from '../support/sandbox.js'

/**
 * The exact shape of every `--json` output of the CLI, pinned as golden files under
 * test/golden/ (`sched list --json` is pinned by test/unit/list-golden.test.ts). Ids, times,
 * pids, durations, paths and the version are replaced by placeholders, so a golden file holds
 * the keys, their order, the value types and every value that does not depend on the moment.
 * Regenerate deliberately with UPDATE_GOLDEN=1 and review the diff.
 */

const GOLDEN = join(ROOT, 'test', 'golden')

function golden(name: string, actual: unknown): void {
  const file = join(GOLDEN, `${name}.json`)
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, {recursive: true})
    writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`)
  }
  expect(existsSync(file), `${file} is missing: write it with UPDATE_GOLDEN=1 and review it`).toBe(true)
  expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')))
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const PLACEHOLDER_NUMBERS = new Set(['pid', 'duration_ms', 'uptime_s'])

/**
 * Replaces what changes from run to run: ULIDs, RFC 3339 times, the temp directory, the API URL,
 * the version, and the numbers under `pid`, `duration_ms` and `uptime_s`. `null` stays `null`, so
 * a field that turns from null into a value (or back) still fails the comparison.
 */
function normalise(value: unknown, dir: string, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, dir))
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, dir, k)]))
  if (typeof value === 'number' && PLACEHOLDER_NUMBERS.has(key)) return `<${key}>`
  if (typeof value !== 'string') return value
  if (key === 'version') return '<version>'
  if (ULID.test(value)) return '<ulid>'
  if (ISO_TIME.test(value)) return '<time>'
  if (/^http:\/\/127\.0\.0\.1:\d+$/.test(value)) return '<url>'
  return value.split(dir).join('<dir>')
}

/** Only the calendar date of a tick changes with the day the test runs; its time of day does not. */
function maskDates(ticks: {at: string; local: string}[]): unknown {
  return ticks.map((t) => ({...t, at: t.at.replace(/^\d{4}-\d\d-\d\d/, 'YYYY-MM-DD'), local: t.local.replace(/^\d{4}-\d\d-\d\d/, 'YYYY-MM-DD')}))
}

const CONFIG = `
[tasks.ok]
run = 'echo fine'

[tasks.fail]
run = 'echo bad >&2; exit 3'

[tasks.greet]
run = 'echo "hello $1"'
parameters = [{ key = "name", kind = "arg", default = "world" }, { key = "--loud", kind = "flag" }]

[tasks.slow]
run = 'sleep 30'

[tasks.tokyo]
run = 'true'
cron = "0 9 * * *"
timezone = "Asia/Tokyo"

[tasks.every]
run = 'true'
cron = "@every 90m"

[services.svc]
run = 'exec sleep 1000'
healthy_after = "0s"
`

describe('--json golden files', () => {
  const b = new Sandbox()
  const dir = b.dir.path

  beforeAll(async () => {
    b.write(CONFIG)
    await b.start()
    await until(async () => (await api(b, 'GET', '/api/tasks/svc')).body.state.status === 'running', 10_000, 'svc to run')
  })

  afterAll(async () => {
    await b.dispose()
  })

  const json = async (args: string[], code = 0): Promise<unknown> => {
    const res = await b.cli([...args, '--json'], {SCHED_API_TOKEN: undefined})
    expect(res.code, res.stderr).toBe(code)
    return JSON.parse(res.stdout)
  }

  it('sched validate --json, valid (with a warning) and invalid', async () => {
    const valid = join(dir, 'valid.toml')
    writeFileSync(valid, '[tasks.a]\nrun = "true"\ntimeout = 30\n\n[services.s]\nrun = "sleep 1"\n')
    const invalid = join(dir, 'invalid.toml')
    writeFileSync(invalid, '[tasks.a]\nrun = "true"\nretyr_attempts = 2\ncron = "61 * * * *"\n\n[services.s]\ncron = "@daily"\n')
    const [ok, bad] = await Promise.all([runCli(['validate', '--json', '-c', valid]), runCli(['validate', '--json', '-c', invalid])])
    expect(ok.code).toBe(0)
    expect(bad.code).toBe(1)
    golden('validate-valid', normalise(JSON.parse(ok.stdout), dir))
    golden('validate-invalid', normalise(JSON.parse(bad.stdout), dir))
  })

  it('sched trigger --json: the run as accepted, and with --wait the final record', async () => {
    const started = await json(['trigger', 'slow'])
    await b.cli(['stop', 'slow'])
    const final = await json(['trigger', 'greet', '--param', 'name=golden', '--param', 'loud', '--wait'])
    golden('trigger', normalise({started, final}, dir))
  })

  it('sched runs --json', async () => {
    await b.cli(['trigger', 'fail', '--wait'])
    await b.cli(['trigger', 'greet', '--wait'])
    golden('runs', normalise({fail: await json(['runs', 'fail']), greet: await json(['runs', 'greet', '--limit', '1'])}, dir))
  })

  it('sched status --json', async () => {
    const status = (await json(['status'])) as {active_runs: unknown[]; units: {name: string}[]}
    golden('status', normalise({...status, units: status.units.filter((u) => ['ok', 'fail', 'svc'].includes(u.name))}, dir))
  })

  it('sched next --json, cron and @every', async () => {
    const [cron, every] = await Promise.all([json(['next', 'tokyo', '-n', '2']), json(['next', 'every', '-n', '2'])])
    golden('next', {cron: maskDates(cron as {at: string; local: string}[]), every: normalise(every, dir)})
  })

  it('sched stop --json: a run, a task, nothing running, a service', async () => {
    const id = (await api(b, 'POST', '/api/tasks/slow/run')).body.id
    const run = await json(['stop', id])
    await api(b, 'POST', '/api/tasks/slow/run')
    const task = await json(['stop', 'slow'])
    const nothing = await json(['stop', 'slow'])
    const service = await json(['stop', 'svc'])
    golden('stop', normalise({run, task, nothing, service}, dir))
  })

  it('sched reload --json', async () => {
    b.write(CONFIG.replace("run = 'echo fine'", "run = 'echo finer'").replace("[tasks.fail]\nrun = 'echo bad >&2; exit 3'\n", '') + "\n[tasks.added]\nrun = 'true'\n")
    golden('reload', normalise(await json(['reload']), dir))
  })
})
