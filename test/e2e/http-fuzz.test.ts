import {connect} from 'node:net'
import {describe, expect} from 'vitest'
import type {Daemon} from '../support/cli.js'
import {it, sleep} from '../support/sandbox.js'

/**
 * Issue 8, "Prove it", hostile input: methods, paths, encodings, headers, huge and slow bodies,
 * half-closed and garbage connections. The daemon never crashes and never answers 5xx; without
 * credentials everything under /api and /metrics is 401; errors are problem+json.
 */

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']
const PATHS = [
  '/api/tasks',
  '/api/tasks/t',
  '/api/tasks/t/run',
  '/api/tasks/../../../../etc/passwd',
  '/api/tasks/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/api/tasks/%00',
  '/api/tasks/%ZZ',
  '/api/tasks/t%C0%AF',
  '/api/tasks/' + 'a'.repeat(5000),
  '/api/runs/01JD5V7Q8M4Z6E8XK2R9T3W1YC/log/stream?from=abc',
  '/api/runs/NOT-A-ULID',
  '/api/runs?limit=-1&status=%F0%9F%92%A5',
  '/api/runs?before=' + '9'.repeat(300),
  '//api//tasks',
  '/api/',
  '/api',
  '/metrics?x=%',
  '/api/tasks/t/run?wait=true&wait_timeout=1e309',
  '/api/daemon/reload',
  '/api/session',
]
const BODIES = [undefined, '', '{', 'null', '[]', '{"params": 5}', '{"params": {"a": {"b": 1}}}', '\u0000\u0001', '{"token": 1}']

function raw(daemon: Daemon, text: string, options: {halfClose?: boolean; waitMs?: number} = {}): Promise<string> {
  const url = new URL(daemon.url)
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    let answer = ''
    socket.on('data', (d) => (answer += d.toString('latin1')))
    socket.on('error', () => resolve(answer))
    socket.on('close', () => resolve(answer))
    socket.write(text, 'latin1')
    if (options.halfClose) socket.end()
    setTimeout(() => socket.destroy(), options.waitMs ?? 1500)
  })
}

describe('hostile HTTP input', () => {
  it('never crashes the daemon, never answers 5xx, 401 first without credentials, problem+json errors', async ({box}) => {
    const b = box.with('[tasks.t]\nrun = "true"\n[tasks.p]\nrun = "echo $1"\n[[tasks.p.parameters]]\nkey = "a"\nkind = "arg"\n')
    const daemon = await b.start()
    const seen = new Map<number, number>()
    for (const method of METHODS) {
      for (const path of PATHS) {
        for (const token of [null, daemon.token]) {
          for (const body of method === 'GET' || method === 'HEAD' ? [undefined] : BODIES) {
            const headers: Record<string, string> = {'content-type': 'application/json'}
            if (token) headers.authorization = `Bearer ${token}`
            const res = await fetch(daemon.url + path, {method, headers, body})
            seen.set(res.status, (seen.get(res.status) ?? 0) + 1)
            const where = `${method} ${path.slice(0, 80)} ${token ? 'with' : 'without'} token`
            expect(res.status, where).toBeLessThan(500)
            // What the client sends after its own normalisation (`..` segments resolved).
            const sent = new URL(daemon.url + path).pathname
            if (!token && /^\/(api(\/|$)|metrics$)/.test(sent) && sent !== '/api/session') expect(res.status, where).toBe(401)
            if (res.status >= 400 && method !== 'HEAD') expect(res.headers.get('content-type'), where).toMatch(/^application\/problem\+json/)
            await res.arrayBuffer()
          }
        }
      }
    }
    // Odd headers: bad auth schemes, a huge header, duplicate lengths.
    for (const authorization of ['Bearer', 'Bearer  ', `bearer ${daemon.token}x`, 'Basic Zm9vOmJhcg==', `Bearer ${'x'.repeat(8000)}`]) {
      const res = await fetch(`${daemon.url}/api/tasks`, {headers: {authorization}})
      expect(res.status).toBe(401)
    }
    expect(await raw(daemon, `GET /api/tasks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/)
    expect(await raw(daemon, 'POST /api/tasks/t/run HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello')).toMatch(/^HTTP\/1\.1 400/)
    // Garbage, a half-closed socket, a slow body that never completes, a huge streamed body.
    expect(await raw(daemon, '\u0000\u00ff garbage \r\n\r\n')).toMatch(/^(HTTP\/1\.1 400|$)/)
    await raw(daemon, 'GET /api/tas', {halfClose: true})
    await raw(daemon, `POST /api/tasks/t/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${daemon.token}\r\nContent-Length: 100\r\n\r\n{"par`, {waitMs: 500})
    const huge = await raw(daemon, `POST /api/tasks/t/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${daemon.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`100000\r\n${'x'.repeat(0x100000)}\r\n`.repeat(2)}0\r\n\r\n`, {waitMs: 3000})
    expect(huge).toMatch(/^HTTP\/1\.1 413/)
    // Many connections opened and dropped at once.
    await Promise.all(Array.from({length: 100}, () => raw(daemon, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', {waitMs: 50})))
    await sleep(100)

    expect(daemon.child.exitCode).toBeNull()
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200)
    expect(daemon.stderr()).not.toMatch(/TypeError|RangeError|ReferenceError|at .*\.js:\d+/)
    expect([...seen.keys()].every((s) => s < 500)).toBe(true)
  }, 300_000)
})
