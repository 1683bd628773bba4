import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {rawRequest} from '../support/control.js'
import {Sandbox} from '../support/sandbox.js'
import {signInUrl} from '../../src/state/sign-in-ticket.js'

/**
 * SPEC §11 for the dashboard: the session cookie (sign-in, flags, sign-out), the CSRF check on
 * cookie-authenticated mutations, the one-time sign-in links, and the routes the page adds.
 */
const CONFIG = `
[tasks.hello]
run = 'echo hello'

[tasks.nightly]
run = 'true'
cron = '30 2 * * *'
timezone = 'Europe/Bratislava'
`

describe('sessions and CSRF against a live daemon', () => {
  const b = new Sandbox()
  let url = ''
  let origin = ''
  let host = ''

  beforeAll(async () => {
    b.write(CONFIG)
    await b.start()
    url = b.daemon!.url
    origin = url
    host = new URL(url).host
  })
  afterAll(() => b.dispose())

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url + path, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: JSON.stringify(body)})
  const signIn = async (): Promise<string> => {
    const res = await post('/api/session', {token: b.daemon!.token}, {origin})
    expect(res.status).toBe(204)
    return res.headers.get('set-cookie')!.split(';')[0]
  }

  it('POST /api/session trades the token for an HttpOnly, SameSite=Strict cookie of ≥ 128 random bits', async () => {
    const res = await post('/api/session', {token: b.daemon!.token})
    expect(res.status).toBe(204)
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(new RegExp(`^sched_session_${new URL(url).port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/$`))
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('a wrong token, no token or a malformed body gets no cookie', async () => {
    for (const [body, status] of [[{token: 'nope'}, 401], [{}, 400], ['x', 400], [{ticket: 'nope'}, 401]] as const) {
      const res = await post('/api/session', body)
      expect(res.status, JSON.stringify(body)).toBe(status)
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
  })

  it('signing in from another origin is refused (no login CSRF)', async () => {
    const res = await post('/api/session', {token: b.daemon!.token}, {origin: 'http://evil.example'})
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('the cookie reads every GET route; a cross-origin or origin-less POST with it is refused and starts nothing', async () => {
    const cookie = await signIn()
    expect((await rawRequest(url, 'GET', '/api/tasks', {cookie})).status).toBe(200)
    expect((await rawRequest(url, 'GET', '/metrics', {cookie})).status).toBe(200)
    const runs = b.runs('hello').length
    for (const headers of [{origin: 'http://evil.example'}, {origin: 'null'}, {referer: 'http://evil.example/x'}, {}, {origin: `http://localhost:${new URL(url).port}`}] as Record<string, string>[]) {
      const res = await post('/api/tasks/hello/run', {}, {cookie, ...headers})
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect((await res.json()).detail).toMatch(/must come from the dashboard's own origin/)
    }
    // Refused before routing: an unknown route says the same, so nothing is learnt.
    expect((await post('/api/no-such', {}, {cookie, origin: 'http://evil.example'})).status).toBe(403)
    expect(b.runs('hello').length).toBe(runs)
    const ok = await post('/api/tasks/hello/run', {}, {cookie, origin})
    expect(ok.status).toBe(201)
    const viaReferer = await post('/api/tasks/hello/run', {}, {cookie, referer: `${url}/tasks/hello`})
    expect(viaReferer.status).toBe(201)
    expect(host).toBe(new URL(origin).host)
  })

  it('bearer clients are unaffected by the origin rules', async () => {
    const res = await post('/api/tasks/hello/run', {}, {authorization: `Bearer ${b.daemon!.token}`, origin: 'http://evil.example'})
    expect(res.status).toBe(201)
  })

  it('DELETE /api/session ends the session and clears the cookie; the old cookie then answers 401', async () => {
    const cookie = await signIn()
    expect((await fetch(`${url}/api/session`, {method: 'DELETE', headers: {cookie, origin: 'http://evil.example'}})).status).toBe(403)
    const res = await fetch(`${url}/api/session`, {method: 'DELETE', headers: {cookie, origin}})
    expect(res.status).toBe(204)
    expect(res.headers.get('set-cookie')).toMatch(/^sched_session_\d+=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0$/)
    const after = await rawRequest(url, 'GET', '/api/tasks', {cookie})
    expect(after.status).toBe(401)
    expect(after.headers['www-authenticate']).toBe('Bearer')
    // Unauthenticated: 401 before routing, for unknown paths and wrong methods too.
    expect((await rawRequest(url, 'GET', '/api/nope', {cookie})).status).toBe(401)
    expect((await rawRequest(url, 'PUT', '/api/tasks', {cookie})).status).toBe(401)
  })

  it('a one-time sign-in link works once and only for this daemon’s token', async () => {
    const link = signInUrl(url, b.daemon!.token, Date.now())
    const ticket = new URL(link).hash.replace('#signin=', '')
    expect((await post('/api/session', {ticket})).status).toBe(204)
    const again = await post('/api/session', {ticket})
    expect(again.status).toBe(401)
    expect((await again.json()).detail).toMatch(/already used/)
    const foreign = new URL(signInUrl(url, 'f'.repeat(64), Date.now())).hash.replace('#signin=', '')
    expect((await post('/api/session', {ticket: foreign})).status).toBe(401)
    const stale = new URL(signInUrl(url, b.daemon!.token, Date.now() - 16 * 60_000)).hash.replace('#signin=', '')
    expect((await post('/api/session', {ticket: stale})).status).toBe(401)
  })

  it('sched serve and sched status print a sign-in link, never the token', async () => {
    const serveLink = /dashboard: (\S+)/.exec(b.daemon!.stderr())![1]
    expect(serveLink).toMatch(new RegExp(`^${url}/#signin=`))
    expect(b.daemon!.stderr()).not.toContain(b.daemon!.token)
    const status = await b.cli(['status'])
    expect(status.stdout).toMatch(new RegExp(`dashboard: ${url}/#signin=\\S+`))
    expect(status.stdout).not.toContain(b.daemon!.token)
    const ticket = /#signin=(\S+)/.exec(status.stdout)![1]
    expect((await post('/api/session', {ticket})).status).toBe(204)
  })
})

describe('the routes the dashboard adds', () => {
  const b = new Sandbox()
  const auth = () => ({authorization: `Bearer ${b.daemon!.token}`})
  beforeAll(async () => {
    b.write(CONFIG)
    await b.start()
  })
  afterAll(() => b.dispose())

  it('GET /api/overview: every unit with its state, last run and newest runs, in one answer', async () => {
    const id = (JSON.parse((await rawRequest(b.daemon!.url, 'POST', '/api/tasks/hello/run?wait=true', auth())).body) as {id: string}).id
    await b.ended('hello', id)
    const res = JSON.parse((await rawRequest(b.daemon!.url, 'GET', '/api/overview?runs=5', auth())).body)
    expect(res.units.map((u: {name: string}) => u.name)).toEqual(['hello', 'nightly'])
    expect(res.units[0]).toMatchObject({state: {status: 'idle', active_runs: 0, queued: 0, instances: []}, last_run: {id, end_reason: 'success'}, recent_runs: [{id, state: 'success', triggered_by: 'api'}]})
    expect(res.units[1]).toMatchObject({last_run: null, recent_runs: []})
    const one = JSON.parse((await rawRequest(b.daemon!.url, 'GET', '/api/overview?name=nightly', auth())).body)
    expect(one.units.map((u: {name: string}) => u.name)).toEqual(['nightly'])
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/overview?runs=0', auth())).status).toBe(400)
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/overview?runs=101', auth())).status).toBe(400)
  })

  it('GET /api/tasks/{name}/next answers what sched next --json prints', async () => {
    const res = await rawRequest(b.daemon!.url, 'GET', '/api/tasks/nightly/next?count=3', auth())
    expect(res.status).toBe(200)
    const ticks = JSON.parse(res.body)
    const cli = JSON.parse((await b.cli(['next', 'nightly', '-n', '3', '--json'])).stdout)
    expect(ticks).toEqual(cli)
    expect(ticks[0]).toMatchObject({zone: 'Europe/Bratislava', kind: 'fire', local: expect.stringMatching(/ 02:30:00$/)})
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/tasks/hello/next', auth())).status).toBe(409)
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/tasks/nope/next', auth())).status).toBe(404)
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/tasks/nightly/next?count=0', auth())).status).toBe(400)
  })
})
