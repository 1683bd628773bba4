import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {Logger} from '../core/logger.js'
import type {Access} from './access/access.js'
import {HttpProblem, sendProblem} from './problem.js'
import {type ApiRequest, type Route, Router} from './router.js'

export const MAX_BODY_BYTES = 1024 * 1024
// The rest of an oversized body is not read: the connection cannot be reused.
const CLOSE = {connection: 'close'}

export interface ApiServerOptions {
  readonly routes: readonly Route[]
  readonly access: Access
  readonly logger: Logger
}

/**
 * Sent with every answer: nothing the API returns (a raw log, a problem) is ever run or framed
 * as a page. The dashboard's own pages carry their own policy.
 */
const BASE_HEADERS = {'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'"}

/** The node:http server: routing, credentials, body limits, and problem+json for every error. */
export function createApiServer(options: ApiServerOptions): Server {
  const router = new Router(options.routes)
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpProblem) {
        sendProblem(res, error)
        return
      }
      options.logger.error('api.error', {method: req.method, url: req.url, error: error instanceof Error ? error.message : String(error)})
      sendProblem(res, new HttpProblem(500, 'internal error; the daemon log has the details'))
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    for (const [name, value] of Object.entries(BASE_HEADERS)) res.setHeader(name, value)
    // Credentials are checked before routing: a stranger learns nothing about which routes exist.
    const guarded = needsCredentials(req.method ?? 'GET', url.pathname)
    if (guarded) requireCredentials(req)
    const found = router.find(req.method ?? 'GET', url.pathname)
    if (found.type === 'none') throw new HttpProblem(404, `no route ${url.pathname}`)
    if (found.type === 'method') {
      throw new HttpProblem(405, `${req.method} is not allowed on ${url.pathname}`, undefined, {allow: found.allow.join(', ')})
    }
    const {route, params} = found.match
    if (route.auth && !guarded) requireCredentials(req)
    let body: Promise<unknown> | undefined
    const request: ApiRequest = {raw: req, params, query: url.searchParams, body: () => (body ??= readJsonBody(req))}
    await route.handler(request, res)
  }

  function requireCredentials(req: IncomingMessage): void {
    const outcome = options.access.check(req)
    if (!outcome.ok) throw new HttpProblem(outcome.status, outcome.detail, undefined, outcome.status === 401 ? {'www-authenticate': 'Bearer'} : {})
  }

  return server
}

/** The one request under /api a stranger may make: signing in, with the token in its body. */
export const SIGN_IN = {method: 'POST', path: '/api/session'} as const

/**
 * Everything under /api, and /metrics, needs credentials whatever the method or the rest of
 * the path — except signing in. The dashboard's pages and assets (everything else) are public:
 * they hold no data.
 */
export function needsCredentials(method: string, pathname: string): boolean {
  if (method === SIGN_IN.method && pathname === SIGN_IN.path) return false
  return pathname === '/api' || pathname.startsWith('/api/') || pathname === '/metrics'
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new HttpProblem(413, `request body over ${MAX_BODY_BYTES} bytes`, undefined, CLOSE)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, `request body over ${MAX_BODY_BYTES} bytes`, undefined, CLOSE)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    throw new HttpProblem(400, 'request body is not valid JSON', [{location: 'body', message: (error as Error).message}])
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body))
}

/** For bodies serialised ahead of time (the task list is built from cached fragments). */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

export function sendJsonBody(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, {'content-type': 'application/json', 'content-length': body.length})
  res.end(body)
}
