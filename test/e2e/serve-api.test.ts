import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type Daemon, ROOT, runCli, startDaemon, tempDir} from '../support/cli.js'

const EXAMPLE = join(ROOT, 'examples', 'sched.toml')

describe('sched serve: GET /api/tasks', () => {
  const dir = tempDir()
  let daemon: Daemon

  beforeAll(async () => {
    daemon = await startDaemon(EXAMPLE, join(dir.path, 'state'))
  })

  afterAll(async () => {
    await daemon?.stop()
    dir.cleanup()
  })

  const get = (path: string, token: string | null = daemon.token) =>
    fetch(daemon.url + path, {headers: token === null ? {} : {authorization: `Bearer ${token}`}})

  it('announces the state dir, the config and where the token is', () => {
    expect(daemon.stderr()).toContain(`state ${join(dir.path, 'state')}`)
    expect(daemon.stderr()).toContain(`config ${EXAMPLE}`)
    expect(daemon.stderr()).toContain(`token ${join(dir.path, 'state', 'api-token')}`)
  })

  it('answers /healthz without a token', async () => {
    const res = await get('/healthz', null)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('ok\n')
  })

  it('lists every unit with every seed field', async () => {
    const res = await get('/api/tasks')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const tasks = (await res.json()) as Record<string, unknown>[]
    expect(tasks.map((t) => t.name)).toEqual(['backup', 'deploy', 'heartbeat', 'report', 'ticker'])
    const backup = tasks[0]
    expect(backup.kind).toBe('task')
    expect(backup.timeout).toBe(3_600_000_000_000)
    expect(backup.graceful_stop).toBe(5_000_000_000)
    expect(backup.log_max_size).toBe(10 * 1024 * 1024)
    expect(backup.timezone).toBe('Europe/Bratislava')
    expect(Date.parse(backup.next_run_at as string)).toBeGreaterThan(Date.now())
    // @every counts from the daemon's start, so the daemon knows its next run.
    expect(tasks[2].next_run_at).toEqual(expect.any(String))
    expect(tasks[1]).not.toHaveProperty('next_run_at')
    expect(tasks[4]).toMatchObject({kind: 'service', instances: 2, restart: 'always', max_concurrent: 2})
  })

  it('serves one unit with its state', async () => {
    const res = await get('/api/tasks/ticker')
    expect(res.status).toBe(200)
    const body = (await res.json()) as {name: string; state: Record<string, unknown>}
    expect(body.name).toBe('ticker')
    expect(body.state).toEqual(expect.objectContaining({active_runs: expect.any(Number), queued: expect.any(Number)}))
  })

  it('refuses a missing or wrong token with 401 problem+json', async () => {
    for (const token of [null, 'wrong', `${daemon.token}x`, '']) {
      const res = await get('/api/tasks', token)
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(await res.json()).toMatchObject({title: 'Unauthorized', status: 401, type: 'about:blank'})
    }
  })

  it('answers unknown names and paths with 404, wrong methods with 405', async () => {
    const missing = await get('/api/tasks/nope')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({status: 404, errors: [{location: 'path.name', value: 'nope'}]})
    const traversal = await get('/api/tasks/..%2F..%2Fetc%2Fpasswd')
    expect(traversal.status).toBe(404)
    expect((await get('/api/nothing-here')).status).toBe(404)
    const wrongMethod = await fetch(`${daemon.url}/api/tasks`, {method: 'DELETE', headers: {authorization: `Bearer ${daemon.token}`}})
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('GET')
    expect(wrongMethod.headers.get('content-type')).toBe('application/problem+json')
  })

  it('list --json prints exactly the array the API returns', async () => {
    const api = await (await get('/api/tasks')).json()
    const cli = await runCli(['list', '--json', '-c', EXAMPLE, '--state-dir', join(dir.path, 'state')])
    expect(cli.code).toBe(0)
    expect(JSON.parse(cli.stdout)).toEqual(api)
  })

  it('refuses a second daemon on the same state dir, naming the live pid', async () => {
    const second = await runCli(['serve', '-c', EXAMPLE, '--state-dir', join(dir.path, 'state'), '--port', '0'])
    expect(second.code).toBe(5)
    expect(second.stderr).toContain(`pid ${daemon.child.pid}`)
  })

  it('stops cleanly with exit 0 on SIGTERM', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0)
  })
})

describe('sched serve: start-up failures', () => {
  it('exits 1 on an invalid config before binding, printing every error', async () => {
    const dir = tempDir()
    const config = join(dir.path, 'sched.toml')
    writeFileSync(config, '[tasks.a]\nrun = "true"\ncron = "not cron"\n[tasks.b]\ntimeout = "soon"\n')
    const res = await runCli(['serve', '-c', config, '--state-dir', join(dir.path, 'state'), '--port', '0'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`${config}:3:1 tasks.a.cron:`)
    expect(res.stderr).toContain(`${config}:5:1 tasks.b.timeout:`)
    expect(res.stderr).toContain(`${config}:4:1 tasks.b: task "b" has no run command`)
    expect(res.stderr).not.toContain('sched serving')
    dir.cleanup()
  })

  it('usage errors exit 2 naming the flag; --help is the command\'s full help', async () => {
    const [unknown, port, format, help] = await Promise.all([
      runCli(['serve', '-c', EXAMPLE, '--bogus']),
      runCli(['serve', '-c', EXAMPLE, '--port', '80x']),
      runCli(['serve', '-c', EXAMPLE, '--log-format', 'xml']),
      runCli(['serve', '--help']),
    ])
    expect([unknown.code, port.code, format.code]).toEqual([2, 2, 2])
    expect(unknown.stderr).toContain("'--bogus'")
    expect(port.stderr).toContain('--port 80x: expected an integer from 0 to 65535')
    expect(format.stderr).toContain('--log-format xml: expected text or json')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--log-format')
    expect(help.stdout).toContain('--no-api')
  })

  it('takes over a state dir whose daemon was killed with SIGKILL', async () => {
    const dir = tempDir()
    const state = join(dir.path, 'state')
    const first = await startDaemon(EXAMPLE, state)
    await first.stop('SIGKILL')
    const second = await startDaemon(EXAMPLE, state)
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200)
    expect(await second.stop('SIGINT')).toBe(0)
    dir.cleanup()
  })

  it('uses SCHED_API_TOKEN when set', async () => {
    const dir = tempDir()
    const daemon = await startDaemon(EXAMPLE, join(dir.path, 'state'), [], {SCHED_API_TOKEN: 'from-env-token'})
    const res = await fetch(`${daemon.url}/api/tasks`, {headers: {authorization: 'Bearer from-env-token'}})
    expect(res.status).toBe(200)
    await daemon.stop()
    dir.cleanup()
  })
})
