import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, runCli} from '../support/cli.js'
import {Sandbox} from '../support/sandbox.js'

/**
 * Every data command takes --json through oclif's enableJsonFlag, so a failure under --json is
 * one JSON document on stdout, `{error: {message, exit_code, hint?, …}}`, nothing on stderr, and
 * the exit code SPEC §9 documents for that failure.
 */

const CONFIG = `
[tasks.p]
run = 'echo "$@"'
[[tasks.p.parameters]]
key = "--region"
kind = "option"
choices = ["eu", "us"]

[tasks.manual]
run = "true"

[services.web]
run = "exec sleep 1000"
`

describe('--json errors', () => {
  const b = new Sandbox()
  beforeAll(() => b.write(CONFIG))
  afterAll(() => b.dispose())

  async function jsonError(args: string[], exit: number): Promise<Record<string, unknown>> {
    // Under vitest's NODE_ENV=test, oclif warns on stderr about a command whose parse failed.
    const res = await b.cli([...args, '--json'], {NODE_ENV: 'production'})
    expect(res.stderr, `sched ${args.join(' ')} --json wrote to stderr`).toBe('')
    expect(res.code, res.stdout).toBe(exit)
    const {error} = JSON.parse(res.stdout) as {error: Record<string, unknown>}
    expect(error).toMatchObject({message: expect.any(String), exit_code: exit})
    return error
  }

  it('every command with data output has enableJsonFlag (none declares its own --json)', async () => {
    const dir = join(ROOT, 'src', 'commands')
    const files = readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.ts'))
    const own = files.filter((f) => /\bjson: Flags\./.test(readFileSync(join(dir, f), 'utf8')))
    expect(own).toEqual([])
  })

  it('an unknown unit is exit 3 for trigger, next, logs and runs', async () => {
    const results = await Promise.all([
      jsonError(['trigger', 'zzz'], 3),
      jsonError(['next', 'zzz'], 3),
      jsonError(['logs', 'zzz'], 3),
      jsonError(['runs', '..'], 3),
    ])
    expect(results[0].message).toContain('zzz')
  })

  it('bad parameters are exit 2 and name the parameter; no run is created', async () => {
    const error = await jsonError(['trigger', 'p', '--param', 'region=mars'], 2)
    expect(JSON.stringify(error)).toContain('--region')
    expect(b.runs('p')).toHaveLength(0)
  })

  it('a usage error from the flag parser is exit 2', async () => {
    await jsonError(['runs', '--limit', 'many'], 2)
  })

  it('commands that need a daemon are exit 4', async () => {
    await Promise.all([jsonError(['stop', 'manual'], 4), jsonError(['start', 'web'], 4), jsonError(['restart', 'web'], 4), jsonError(['reload'], 4)])
  })

  it('an invalid config is exit 1 with every issue as data', async () => {
    const bad = b.path('bad.toml')
    writeFileSync(bad, '[tasks.a]\nrun = "true"\nretyr_attempts = 2\n')
    const res = await runCli(['list', '--json', '-c', bad, '--state-dir', b.state])
    expect(res.code).toBe(1)
    expect(res.stderr).toBe('')
    expect(JSON.parse(res.stdout)).toEqual({
      error: {
        message: `${bad} has 1 error`,
        exit_code: 1,
        hint: `run: sched validate -c ${bad}`,
        config_path: bad,
        errors: [{key: 'tasks.a.retyr_attempts', line: 3, column: 1, message: 'unknown key "retyr_attempts"', hint: 'did you mean "retry_attempts"?'}],
      },
    })
  })

  it('status without a daemon is data, not an error, and still exit 4', async () => {
    const res = await b.cli(['status', '--json'])
    expect(res.code).toBe(4)
    expect(JSON.parse(res.stdout)).toMatchObject({daemon: null, units: expect.any(Array)})
  })
})
