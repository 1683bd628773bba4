import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect} from 'vitest'
import {runCli} from '../support/cli.js'
import {api} from '../support/control.js'
import {IMPORT_FIXTURES} from '../support/import.js'
import {type Sandbox, fixture, it, until} from '../support/sandbox.js'

/**
 * `sched import …` through the built CLI: each real-world-shaped input becomes a config that
 * `sched validate` accepts and `sched serve` boots on; output never overwrites a file unasked;
 * and imported Compose units run docker compose exactly as documented (a stand-in docker on
 * PATH records every invocation).
 */

const input = (name: string) => join(IMPORT_FIXTURES, name)

/** A directory holding the stand-in `docker`, and the file where it records its calls. */
function fakeDocker(b: Sandbox): {env: NodeJS.ProcessEnv; calls(): string[]} {
  const bin = b.path('bin')
  mkdirSync(bin)
  symlinkSync(fixture('fake-docker.sh'), join(bin, 'docker'))
  const log = b.path('docker.log')
  writeFileSync(log, '')
  return {
    env: {PATH: `${bin}:${process.env.PATH}`, FAKE_DOCKER_LOG: log},
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  }
}

async function importInto(b: Sandbox, args: string[]): Promise<void> {
  const res = await runCli(['import', ...args, '-o', b.config])
  expect(res.code, res.stderr).toBe(0)
  const valid = await b.cli(['validate'])
  expect(valid.code, valid.stdout + valid.stderr).toBe(0)
}

describe('sched import', () => {
  it.for([
    ['crontab', ['crontab', input('crontab')]],
    ['system crontabs', ['crontab', '--system', input('etc-crontab'), input('cron.d')]],
    ['compose', ['compose', input('docker-compose.yml')]],
    ['supervisord', ['supervisord', input('supervisord.conf')]],
  ])('%s: the output validates and serve boots on it', async ([, args], {box: b}) => {
    const docker = fakeDocker(b)
    await importInto(b, args as string[])
    await b.start(docker.env)
    const tasks = await api(b, 'GET', '/api/tasks')
    expect(tasks.status).toBe(200)
    expect(tasks.body.length).toBeGreaterThan(2)
    expect(await b.stop()).toBe(0)
  })

  it('prints to stdout, lists what is not imported on stderr with its line, and --json gives units and the unmapped list', async () => {
    const [text, json] = await Promise.all([runCli(['import', 'crontab', input('crontab')]), runCli(['import', 'crontab', input('crontab'), '--json'])])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('[tasks.backup-db]')
    expect(text.stderr).toContain(`not imported: ${input('crontab')}:6: MAILTO=ops@example.com`)
    const data = JSON.parse(json.stdout)
    expect(data.units.map((u: {name: string}) => u.name)).toContain('backup-db')
    expect(data.units.find((u: {name: string}) => u.name === 'backup-db')).toMatchObject({kind: 'task', cron: '30 2 * * *', timezone: 'Europe/Bratislava'})
    expect(data.unmapped).toEqual([
      expect.objectContaining({line: 6, what: 'MAILTO=ops@example.com'}),
      expect.objectContaining({line: 26, what: 'RANDOM_DELAY=10'}),
    ])
    expect(data.toml).toBe(text.stdout)
    expect(data.written).toBeNull()
  })

  it('--output refuses an existing file without --force; --merge adds, and refuses a name that is taken', async ({box: b}) => {
    b.write('[tasks.keep]\nrun = "true"\n')
    const refused = await runCli(['import', 'supervisord', input('supervisord.conf'), '-o', b.config])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`${b.config} exists; nothing was written`)
    expect(readFileSync(b.config, 'utf8')).toBe('[tasks.keep]\nrun = "true"\n')

    const merged = await runCli(['import', 'supervisord', input('supervisord.conf'), '--merge', b.config])
    expect(merged.code, merged.stderr).toBe(0)
    expect(merged.stderr).toContain(`added 3 units to ${b.config}`)
    const text = readFileSync(b.config, 'utf8')
    expect(text.startsWith('[tasks.keep]\nrun = "true"\n\n# Imported from')).toBe(true)
    expect((await b.cli(['validate', '--json'])).stdout).toContain('"units":4')

    const clash = await runCli(['import', 'supervisord', input('supervisord.conf'), '--merge', b.config, '--json'])
    expect(clash.code).toBe(1)
    expect(JSON.parse(clash.stdout).error).toMatchObject({message: expect.stringContaining('already has "web", "worker", "beat"'), clashes: ['web', 'worker', 'beat']})
    expect(readFileSync(b.config, 'utf8')).toBe(text)

    const forced = await runCli(['import', 'supervisord', input('supervisord.conf'), '-o', b.config, '--force'])
    expect(forced.code).toBe(0)
    expect(readFileSync(b.config, 'utf8')).not.toContain('[tasks.keep]')
  })

  it('bad input: every error with its line on stderr (or in --json), exit 1, nothing written', async ({box: b}) => {
    const res = await runCli(['import', 'crontab', input('crontab-bad'), '-o', b.path('out.toml')])
    expect(res.code).toBe(1)
    const file = input('crontab-bad')
    expect(res.stderr).toContain(`${file}:3: cron: invalid cron "61 * * * *": minute value 61 is out of range 0-59`)
    expect(res.stderr).toContain(`${file}:4: expected a schedule (5 fields or @daily-style) and a command`)
    expect(b.exists('out.toml')).toBe(false)
    const json = JSON.parse((await runCli(['import', 'crontab', file, '--json'])).stdout)
    expect(json.error.errors.map((e: {line: number}) => e.line)).toEqual([3, 4, 5, 7])
  })

  it('imported compose units run docker compose exactly as documented; GET /api/tasks shows their compose', async ({box: b}) => {
    const docker = fakeDocker(b)
    const compose = b.path('docker-compose.yml')
    writeFileSync(compose, 'name: shop\nservices:\n  web:\n    image: nginx\n    restart: always\n  backup:\n    image: postgres:16\n    x-sched:\n      parameters:\n        - {key: MODE, kind: env, default: full}\n        - {key: target, kind: arg}\n')
    const res = await runCli(['import', 'compose', compose, '-o', b.config])
    expect(res.code, res.stderr).toBe(0)
    expect(readFileSync(b.config, 'utf8')).toContain('compose = { file = "docker-compose.yml", project_name = "shop", service = "web" }')
    await b.start(docker.env)
    const up = `[compose][-p][shop][-f][${compose}][up][--no-deps][--no-log-prefix][--exit-code-from][web][web]`
    await until(() => docker.calls().includes(up), 10_000, 'docker compose up web')
    const id = await b.trigger('backup', ['--param', 'target=/backups/today'])
    const run = await b.ended('backup', id, 10_000)
    expect(run.end_reason).toBe('success')
    expect(docker.calls()).toEqual([up, `[compose][-p][shop][-f][${compose}][run][--rm][-e][MODE][backup][/backups/today]`])

    const tasks = (await api(b, 'GET', '/api/tasks')).body as {name: string; compose: unknown}[]
    expect(tasks.map((t) => [t.name, t.compose])).toEqual([
      ['backup', {file: compose, project_name: 'shop', service: 'backup'}],
      ['web', {file: compose, project_name: 'shop', service: 'web'}],
    ])
    // Stopping the service signals docker compose up, which stops the container and exits 0.
    expect((await api(b, 'POST', '/api/tasks/web/stop')).status).toBe(200)
  })
})
