import {type IncomingMessage, type Server, type ServerResponse, createServer, request} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, expect, it} from 'vitest'
import {LogProxy, PROXIED_HEADER} from '../../src/api/log-proxy.js'
import type {NodeAddress} from '../../src/cluster/nodes.js'
import {until} from '../support/sandbox.js'

/**
 * LogProxy between two real HTTP servers on port 0: the "owner" (a stand-in for the node that
 * holds the log) and the "front" node whose handler forwards every request to it.
 */

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => {
    s.closeAllConnections()
    s.close(resolve)
  })))
})

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function front(address: NodeAddress | undefined, answerWithinMs?: number): Promise<{url: string; refusals: unknown[]}> {
  const proxy = new LogProxy({me: 'front', token: 'tok', locate: async () => address, answerWithinMs})
  const refusals: unknown[] = []
  const url = await listen((req, res) => {
    void proxy.forward(req, res, 'owner').then((refusal) => {
      if (!refusal) return
      refusals.push(refusal)
      res.writeHead(599).end()
    })
  })
  return {url, refusals}
}

const live = (advertise: string | null): NodeAddress => ({advertise, live: true, last_seen: 0})

it('forwards path, query and Last-Event-ID with its own token and the loop mark, and passes the answer back', async () => {
  let seen: IncomingMessage | undefined
  const owner = await listen((req, res) => {
    seen = req
    res.writeHead(200, {'content-type': 'application/json', 'x-owner': '1'}).end('{"lines":[]}')
  })
  const {url} = await front(live(owner))
  const res = await fetch(`${url}/api/runs/R/log?from=-5&limit=2`, {headers: {authorization: 'Bearer caller', cookie: 'sched_session=x', 'last-event-id': '7'}})
  expect(res.status).toBe(200)
  expect(res.headers.get('x-owner')).toBe('1')
  expect(await res.text()).toBe('{"lines":[]}')
  expect(seen!.url).toBe('/api/runs/R/log?from=-5&limit=2')
  expect(seen!.headers.authorization).toBe('Bearer tok')
  expect(seen!.headers.cookie).toBe(undefined)
  expect(seen!.headers['last-event-id']).toBe('7')
  expect(seen!.headers[PROXIED_HEADER]).toBe('front')
  expect(LogProxy.isProxied(seen!)).toBe(true)
})

it('streams as it comes (no buffering), and a client that leaves closes the owner\'s side', async () => {
  let ownerClosed = false
  const owner = await listen((req, res) => {
    res.writeHead(200, {'content-type': 'text/event-stream'})
    res.write('event: line\ndata: 1\n\n')
    req.on('close', () => (ownerClosed = true))
  })
  const {url} = await front(live(owner))
  const first = await new Promise<string>((resolve) => {
    const req = request(`${url}/api/runs/R/log/stream`, (res) => {
      res.once('data', (chunk: Buffer) => {
        resolve(chunk.toString())
        req.destroy()
      })
    })
    req.end()
  })
  expect(first).toBe('event: line\ndata: 1\n\n')
  await until(() => ownerClosed, 5000, 'the owner side to close')
})

it('an owner that dies mid-answer cuts the client too: a cut log never looks whole', async () => {
  const owner = await listen((_req, res) => {
    res.writeHead(200, {'content-type': 'text/plain'})
    res.write('part')
    setTimeout(() => res.socket!.destroy(), 50)
  })
  const {url} = await front(live(owner))
  const res = await fetch(`${url}/api/runs/R/log/raw`)
  await expect(res.text()).rejects.toThrow()
})

it.each<[string, NodeAddress | undefined, string]>([
  ['not in the node table', undefined, 'unknown'],
  ['not live', {advertise: 'http://127.0.0.1:1', live: false, last_seen: 5}, 'down'],
  ['without advertise', live(null), 'no-advertise'],
  ['refusing connections', live('http://127.0.0.1:1'), 'unreachable'],
])('an owner %s: a refusal, nothing sent', async (_what, address, kind) => {
  const {url, refusals} = await front(address)
  expect((await fetch(`${url}/api/runs/R/log`)).status).toBe(599)
  expect(refusals).toMatchObject([{kind}])
})

it('an owner that does not answer within the limit is unreachable; one that refuses the token says so', async () => {
  const silent = await listen(() => undefined)
  const slow = await front(live(silent), 200)
  expect((await fetch(`${slow.url}/api/runs/R/log`)).status).toBe(599)
  expect(slow.refusals).toMatchObject([{kind: 'unreachable', reason: 'no answer within 0.2s'}])

  const strict = await listen((_req, res) => res.writeHead(401).end('{}'))
  const refused = await front(live(strict))
  expect((await fetch(`${refused.url}/api/runs/R/log`)).status).toBe(599)
  expect(refused.refusals).toEqual([{kind: 'token', advertise: strict, status: 401}])
})
