import {mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Access} from '../../src/api/access/access.js'
import {DashboardAssets} from '../../src/api/dashboard/assets.js'
import {apiRoutes} from '../../src/api/routes.js'
import type {Route} from '../../src/api/router.js'
import {SIGN_IN, needsCredentials} from '../../src/api/server.js'
import type {Daemon} from '../../src/engine/daemon.js'
import type {Notifications} from '../../src/notify/notifications.js'
import {StateLayout} from '../../src/state/layout.js'
import {api, rawRequest as raw} from '../support/control.js'
import {Sandbox, unwrap} from '../support/sandbox.js'

/**
 * SPEC §11 security: (a) a census over the router's own route table — every /api and /metrics
 * route demands credentials but signing in, only /healthz, sign-in and the dashboard's public
 * pages do not, and each guarded one answers 401 problem+json without them on a live daemon;
 * (b) names and ids in paths (API and CLI) never reach the filesystem.
 */

/** The route table, built without a daemon: handlers close over it but are never called here. */
const ROUTES: Route[] = apiRoutes({} as Daemon, new StateLayout('/nonexistent'), new Access('x', () => 0), DashboardAssets.load('/nonexistent'), {} as Notifications)

/** The dashboard's pages and files (SPEC §12): public, they hold no data. */
const DASHBOARD_ROUTES = ['GET /', 'GET /tasks/:unit', 'GET /runs/:run', 'GET /daemon', 'GET /notifications', 'GET /assets/:file']

/** SPEC §11, route for route: a route added to the table without being listed here fails the census. */
const SPEC_ROUTES = [
  'GET /healthz',
  'GET /api/tasks',
  'GET /api/tasks/:name',
  'POST /api/tasks/:name/run',
  'POST /api/tasks/:name/stop',
  'POST /api/tasks/:name/start',
  'POST /api/tasks/:name/restart',
  'GET /api/runs',
  'GET /api/runs/:id',
  'POST /api/runs/:id/stop',
  'GET /api/runs/:id/log',
  'GET /api/runs/:id/log/raw',
  'GET /api/runs/:id/log/stream',
  'GET /api/events',
  'GET /api/daemon',
  'POST /api/daemon/reload',
  'GET /metrics',
  'POST /api/session',
  'DELETE /api/session',
  'GET /api/overview',
  'GET /api/tasks/:name/next',
  'GET /api/notifications',
  ...DASHBOARD_ROUTES,
]

const CONFIG = `
[tasks.hello]
run = 'echo hello'
cron = '0 0 1 1 *'

[tasks.slow]
run = 'sleep 30'

[services.web]
run = "exec sleep 1000"
healthy_after = "0s"
`
const UNITS = ['hello', 'slow', 'web']

/** Every file under `root` (skipping `skip`), with its size, mtime and content, for before/after comparisons. */
function snapshot(root: string, skip: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (path === skip) continue
      if (entry.isDirectory()) {
        out.set(`${relative(root, path)}/`, 'dir')
        walk(path)
      } else {
        const st = statSync(path)
        out.set(relative(root, path), `${st.size}:${st.mtimeMs}:${readFileSync(path, 'latin1')}`)
      }
    }
  }
  walk(root)
  return out
}

describe('route census', () => {
  it('the route table is exactly SPEC §11', () => {
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual([...SPEC_ROUTES].sort())
  })

  it('every /api and /metrics route demands credentials but sign-in; only /healthz, sign-in and the dashboard pages do not', () => {
    const underApi = ROUTES.filter((r) => r.path.startsWith('/api') || r.path.startsWith('/metrics'))
    for (const r of underApi) expect(r.auth, `${r.method} ${r.path}`).toBe(!(r.method === SIGN_IN.method && r.path === SIGN_IN.path))
    expect(ROUTES.filter((r) => !r.auth).map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /healthz', 'POST /api/session', ...DASHBOARD_ROUTES].sort())
  })

  it('the check before routing agrees with the table: sign-in is the one exception under /api', () => {
    for (const r of ROUTES) expect(needsCredentials(r.method, r.path.replace(/:\w+/g, 'x')), `${r.method} ${r.path}`).toBe(r.auth)
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) expect(needsCredentials(method, '/api/session'), method).toBe(true)
    expect(needsCredentials('POST', '/api/session/x')).toBe(true)
    expect(needsCredentials('POST', '/api/sessions')).toBe(true)
  })
})

describe('against a live daemon', () => {
  const b = new Sandbox()
  let runId = ''
  const sentinels = new Map<string, string>()
  let outside: Map<string, string>

  beforeAll(async () => {
    b.write(CONFIG)
    // Decoys outside the state dir, named like what a traversal would reach.
    const planted = join(b.dir.path, 'etc', 'passwd')
    mkdirSync(planted, {recursive: true})
    const record = {v: 1, id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', task_name: 'passwd', kind: 'task', status: 'ended', end_reason: 'success', exit_code: 0, signal: null, triggered_by: 'cli', scheduled_at: null, created_at: '2016-07-30T23:54:10.259Z', started_at: null, ended_at: null, duration_ms: 0, retry_attempt: 0, retry_of_run_id: null, instance_index: null, params: {}, pid: null, log_bytes: 0, message: 'PLANTED-SECRET'}
    sentinels.set(join(planted, '01ARZ3NDEKTSV4RRFFQ69G5FAV.cli.success.json'), JSON.stringify(record))
    sentinels.set(join(planted, '01ARZ3NDEKTSV4RRFFQ69G5FAW.cli.failed.json'), 'PLANTED not json')
    sentinels.set(join(planted, '01ARZ3NDEKTSV4RRFFQ69G5FAW.log'), 'PLANTED-LOG\n')
    sentinels.set(join(b.dir.path, 'x'), 'SENTINEL x\n')
    sentinels.set(join(b.dir.path, 'api-token'), 'SENTINEL token\n')
    for (const [path, text] of sentinels) writeFileSync(path, text)
    await b.start()
    runId = (await api(b, 'POST', '/api/tasks/hello/run?wait=true')).body.id
    // Its final record is written just after the answer: wait for it, so that run counts are stable.
    await b.ended('hello', runId)
    outside = snapshot(b.dir.path, b.state)
  })

  afterAll(async () => {
    await b.dispose()
  })

  /** The path of a route with its parameters filled in. */
  const fill = (route: Route, name: string, id: string) => route.path.replace(':name', name).replace(':id', id)

  it('every guarded route answers 401 problem+json without the token, or with a wrong one', async () => {
    const before = b.runs().length
    for (const route of ROUTES.filter((r) => r.auth)) {
      const path = fill(route, 'hello', runId)
      for (const headers of [{} as Record<string, string>, {authorization: `Bearer ${b.daemon!.token}x`}, {authorization: b.daemon!.token}, {authorization: 'Basic Zm9vOmJhcg=='}]) {
        const res = await raw(b.daemon!.url, route.method, path, headers)
        expect(res.status, `${route.method} ${path} ${JSON.stringify(headers)}`).toBe(401)
        expect(res.type).toBe('application/problem+json')
        expect(JSON.parse(res.body)).toMatchObject({title: 'Unauthorized', status: 401, type: 'about:blank'})
        expect(res.headers['www-authenticate']).toBe('Bearer')
      }
    }
    // Nothing was triggered or stopped by those requests.
    expect(b.runs().length).toBe(before)
    expect((await api(b, 'GET', '/api/tasks/web')).body.state.status).toBe('running')
  })

  it('the same routes answer with the token (so the 401s above are about the token, not the path)', async () => {
    for (const route of ROUTES.filter((r) => r.auth && r.method === 'GET' && !r.path.endsWith('/stream') && r.path !== '/api/events')) {
      const path = fill(route, 'hello', runId)
      const res = await raw(b.daemon!.url, 'GET', path, {authorization: `Bearer ${b.daemon!.token}`})
      expect(res.status, path).toBe(200)
    }
  })

  it('without credentials, unknown paths and wrong methods under /api answer 401 too: routing comes after auth', async () => {
    const probes: [string, string][] = [
      ['GET', '/api/tasks/hello/run'],
      ['POST', '/api/tasks'],
      ['DELETE', '/api/tasks/hello'],
      ['PUT', '/api/daemon'],
      ['GET', '/api/no-such-route'],
      ['GET', '/api'],
      ['GET', '/api/'],
      ['POST', '/metrics'],
      ['GET', '/api/runs/../tasks/hello/run'],
      ['GET', '/api/session'],
      ['PUT', '/api/session'],
      ['DELETE', '/api/session'],
      ['POST', '/api/session/x'],
    ]
    for (const [method, path] of probes) {
      const res = await raw(b.daemon!.url, method, path)
      expect(res.status, `${method} ${path}`).toBe(401)
      expect(res.type, `${method} ${path}`).toBe('application/problem+json')
      expect(res.headers.allow, `${method} ${path}`).toBeUndefined()
    }
    // With the token the same probes are told apart (so the 401s above hide something real).
    const auth = {authorization: `Bearer ${b.daemon!.token}`}
    expect((await raw(b.daemon!.url, 'GET', '/api/tasks/hello/run', auth)).status).toBe(405)
    expect((await raw(b.daemon!.url, 'GET', '/api/no-such-route', auth)).status).toBe(404)
  })

  it('/healthz needs no token', async () => {
    const res = await raw(b.daemon!.url, 'GET', '/healthz')
    expect(res).toMatchObject({status: 200, body: 'ok\n'})
  })

  // A bare "." is left out: URL resolution turns /api/tasks/. into /api/tasks/, the list itself.
  const HOSTILE = [
    '..',
    '../x',
    '../../x',
    '%2e%2e',
    '%2e%2e%2f',
    '%2E%2E%2Fx',
    '..%2F..%2Fetc%2Fpasswd',
    '..%2f..%2f..%2f..%2fetc%2fpasswd',
    '..%5C..%5Cx',
    '%252e%252e%252f',
    'a/b',
    'x%00y',
    '%00',
    'a'.repeat(101),
    'a'.repeat(5000),
    '01arz3ndektsv4rrffq69g5fav',
    './api-token',
    '.%2Fapi-token',
    'api-token',
    '~',
    '%7E%2F.ssh',
  ]

  it('a hostile :name or :id is a 404 (or 405) problem+json on every route that takes one', async () => {
    const auth = {authorization: `Bearer ${b.daemon!.token}`}
    const before = b.runs().length
    for (const route of ROUTES.filter((r) => /:(name|id)/.test(r.path))) {
      for (const value of HOSTILE) {
        const path = route.path.replace(/:(name|id)/, value)
        const res = await raw(b.daemon!.url, route.method, path, auth)
        expect([404, 405], `${route.method} ${path} → ${res.status} ${res.body}`).toContain(res.status)
        expect(res.type, `${route.method} ${path}`).toBe('application/problem+json')
      }
    }
    expect(b.runs().length).toBe(before)
  })

  it('a hostile dashboard file name is a 404: files are looked up by name, never by path', async () => {
    for (const value of [...HOSTILE, 'index.html', '..%2Findex.html', '..%2F..%2Fpackage.json', '%2Fetc%2Fpasswd']) {
      // A bare ".." is resolved away by URL parsing before the server sees it (→ the page at /).
      if (!new URL(`/assets/${value}`, 'http://x').pathname.startsWith('/assets/')) continue
      const res = await raw(b.daemon!.url, 'GET', `/assets/${value}`)
      expect(res.status, `/assets/${value}`).toBe(404)
      expect(res.body).not.toContain('PLANTED')
    }
  })

  it('CLI: logs, runs and stop with traversal names exit 3 and read nothing outside the state dir', async () => {
    const [logs, logsUp, runs, runsJson, stop, stopUp] = await Promise.all([
      b.cli(['logs', '../../etc/passwd']),
      b.cli(['logs', '../x']),
      b.cli(['runs', '../../etc/passwd']),
      b.cli(['runs', '../../etc/passwd', '--json']),
      b.cli(['stop', '../x']),
      b.cli(['stop', '../../etc/passwd']),
    ])
    for (const res of [logs, logsUp, runs, runsJson, stop, stopUp]) {
      expect(res.code, res.stdout + res.stderr).toBe(3)
      expect(res.stdout + res.stderr).not.toContain('PLANTED')
    }
    expect(unwrap(logs.stderr)).toContain('no task, service or run named "../../etc/passwd"')
    expect(unwrap(stop.stderr)).toContain('"../x"')
  })

  it('nothing outside the state dir was created, changed, moved or deleted; nothing inside is named after a hostile value', () => {
    for (const [path, text] of sentinels) expect(readFileSync(path, 'utf8'), path).toBe(text)
    expect(snapshot(b.dir.path, b.state)).toEqual(outside)
    const state = readdirSync(b.state).filter((f) => !f.endsWith('.tmp'))
    for (const f of state) expect(['daemon.json', 'claim.lock', 'api-token', 'runs', 'logs', 'units', 'requests', 'journal', 'compiled.json', 'outbox', 'notifications', 'notify.json'], f).toContain(f)
    for (const sub of ['runs', 'logs']) {
      for (const f of readdirSync(join(b.state, sub))) expect(UNITS, `${sub}/${f}`).toContain(f)
    }
    for (const f of readdirSync(join(b.state, 'units'))) expect(UNITS.map((u) => `${u}.json`), `units/${f}`).toContain(f)
  })
})
