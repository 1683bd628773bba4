import {type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, request as httpRequest} from 'node:http'
import {errorMessage} from '../core/errors.js'
import type {NodeAddress} from '../cluster/nodes.js'

/**
 * Set on a request one node forwards to another: the receiving node answers from its own disk
 * only, so a request is forwarded at most once and never loops (even between two nodes that
 * each believe the other holds the log).
 */
export const PROXIED_HEADER = 'x-sched-proxied-by'

/** How long the owner has to connect and send its answer's head; a stream may then last. */
export const ANSWER_WITHIN_MS = 3000

/** Why a log could not be fetched from its node: mapped to a problem once (cluster-problem.ts). */
export type LogRefusal =
  | {readonly kind: 'unknown'}
  | {readonly kind: 'down'; readonly lastSeen: number}
  | {readonly kind: 'no-advertise'}
  | {readonly kind: 'unreachable'; readonly advertise: string; readonly reason: string}
  | {readonly kind: 'token'; readonly advertise: string; readonly status: number}

// Hop-by-hop headers belong to one connection, not to the answer forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'])

/**
 * Forwards a log request (page, raw or SSE) to the node that holds the log, at its `advertise`
 * URL, and streams the answer through as it comes: nothing is buffered, the owner's pace is the
 * client's (pipe's back-pressure), and either side closing closes the other.
 *
 * It authenticates with this node's own API token, not the caller's credentials: a dashboard
 * caller has only a session cookie, which is this node's alone, and the caller was already let
 * in here. Every node shares SCHED_API_TOKEN, so the owner accepts it; one that does not is a
 * configuration error said as such.
 */
export class LogProxy {
  constructor(
    private readonly options: {
      readonly me: string
      readonly token: string
      readonly locate: (node: string) => Promise<NodeAddress | undefined>
      readonly answerWithinMs?: number
    },
  ) {}

  /** A request that came from another node: answer it here, whatever the run's node. */
  static isProxied(req: IncomingMessage): boolean {
    return req.headers[PROXIED_HEADER] !== undefined
  }

  /** Undefined once the owner's answer is being streamed to `res`; a refusal before anything was sent. */
  async forward(req: IncomingMessage, res: ServerResponse, node: string): Promise<LogRefusal | undefined> {
    const address = await this.options.locate(node)
    if (!address) return {kind: 'unknown'}
    if (!address.live) return {kind: 'down', lastSeen: address.last_seen}
    if (!address.advertise) return {kind: 'no-advertise'}
    const advertise = address.advertise
    const target = new URL(`${advertise}${req.url ?? '/'}`)
    const headers: OutgoingHttpHeaders = {authorization: `Bearer ${this.options.token}`, [PROXIED_HEADER]: this.options.me}
    for (const name of ['accept', 'last-event-id', 'range']) if (req.headers[name] !== undefined) headers[name] = req.headers[name]
    // Loaded when first needed: node:https brings TLS, almost 1 MB resident in a daemon that never proxies.
    const request = target.protocol === 'https:' ? (await import('node:https')).request : httpRequest

    return new Promise((resolve) => {
      let answered = false
      const upstream = request(target, {method: 'GET', headers}, (answer) => {
        clearTimeout(timer)
        answered = true
        const status = answer.statusCode ?? 502
        if (status === 401 || status === 403) {
          answer.resume()
          resolve({kind: 'token', advertise, status})
          return
        }
        res.writeHead(status, endToEnd(answer.headers))
        res.flushHeaders()
        // The owner ended the answer early (it died, or its socket broke): the client must not
        // take a cut log for a whole one, so its connection is cut too.
        answer.on('close', () => {
          if (!answer.complete) res.destroy()
        })
        answer.pipe(res)
        resolve(undefined)
      })
      const timer = setTimeout(() => upstream.destroy(new Error(`no answer within ${(this.options.answerWithinMs ?? ANSWER_WITHIN_MS) / 1000}s`)), this.options.answerWithinMs ?? ANSWER_WITHIN_MS)
      upstream.on('error', (error) => {
        clearTimeout(timer)
        if (answered) res.destroy()
        else resolve({kind: 'unreachable', advertise, reason: errorMessage(error)})
      })
      // The client went away (or the answer is complete): nothing more to fetch.
      res.on('close', () => upstream.destroy())
      upstream.end()
    })
  }
}

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  return out
}
