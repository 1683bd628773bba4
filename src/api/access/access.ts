import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import type {TLSSocket} from 'node:tls'
import {checkTicket} from '../../state/sign-in-ticket.js'
import {clearedCookie, cookieName, readCookie, sessionCookie} from './cookie.js'
import {isSafeMethod, sameOrigin} from './same-origin.js'
import {Sessions} from './sessions.js'

/** What a request presents, read from its headers and socket. */
export interface Presented {
  readonly method: string
  readonly authorization?: string
  /** The session cookie's value. */
  readonly session?: string
  readonly origin?: string
  readonly referer?: string
  readonly host?: string
  readonly secure: boolean
}

export type AccessOutcome =
  | {readonly ok: true; readonly via: 'bearer' | 'cookie'}
  | {readonly ok: false; readonly status: 401 | 403; readonly detail: string}

/**
 * Who may use the API (SPEC §11), decided before any routing: a valid bearer token, or a live
 * session cookie — and with the cookie, a mutating method only from the daemon's own origin
 * (CSRF). An Authorization header that is present decides alone: a wrong token is refused
 * even when a cookie would have been good, so a client never runs with credentials it did not
 * mean to use.
 */
export function decideAccess(p: Presented, valid: {token(given: string): boolean; session(id: string): boolean}): AccessOutcome {
  if (p.authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(p.authorization)
    return m && valid.token(m[1]) ? {ok: true, via: 'bearer'} : {ok: false, status: 401, detail: 'missing or wrong bearer token'}
  }
  if (p.session === undefined || !valid.session(p.session)) return {ok: false, status: 401, detail: 'missing or wrong bearer token (or an expired dashboard session)'}
  if (!isSafeMethod(p.method) && !sameOrigin(p, p.secure)) {
    return {ok: false, status: 403, detail: `a ${p.method} with the session cookie must come from the dashboard's own origin (Origin or Referer matching the Host)`}
  }
  return {ok: true, via: 'cookie'}
}

export type SignIn = {readonly ok: true; readonly cookie: string} | {readonly ok: false; readonly status: 400 | 401 | 403; readonly detail: string}

/** The API token and the dashboard sessions made from it. */
export class Access {
  private readonly expected: Buffer
  private readonly sessions: Sessions

  constructor(
    token: string,
    private readonly now: () => number,
  ) {
    this.expected = Buffer.from(token)
    this.sessions = new Sessions(now)
  }

  check(req: IncomingMessage): AccessOutcome {
    return decideAccess(presented(req), {token: (given) => this.tokenMatches(given), session: (id) => this.sessions.use(id)})
  }

  /**
   * POST /api/session: `{"token": …}` (typed into the page) or `{"ticket": …}` (a one-time
   * sign-in link) becomes a session cookie. Refused from another origin, so no other site can
   * sign a browser in behind its user's back.
   */
  signIn(req: IncomingMessage, body: unknown): SignIn {
    const p = presented(req)
    if (p.origin !== undefined && !sameOrigin(p, p.secure)) return {ok: false, status: 403, detail: 'sign-in must come from the dashboard\'s own origin'}
    const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
    if (typeof given.token === 'string') {
      if (!this.tokenMatches(given.token)) return {ok: false, status: 401, detail: 'wrong API token'}
    } else if (typeof given.ticket === 'string') {
      const ticket = checkTicket(given.ticket, this.expected.toString(), this.now())
      if (!ticket.ok) return {ok: false, status: 401, detail: ticket.reason}
      if (!this.sessions.redeem(ticket.nonce, ticket.expires)) return {ok: false, status: 401, detail: 'this sign-in link was already used; run sched status for a new one'}
    } else {
      return {ok: false, status: 400, detail: 'send {"token": "<API token>"} or {"ticket": "<one-time sign-in code>"}'}
    }
    return {ok: true, cookie: sessionCookie(cookieName(localPort(req)), this.sessions.create(), p.secure)}
  }

  /** DELETE /api/session: the cookie's session ends; the answer clears the cookie. */
  signOut(req: IncomingMessage): string {
    const p = presented(req)
    if (p.session !== undefined) this.sessions.end(p.session)
    return clearedCookie(cookieName(localPort(req)), p.secure)
  }

  private tokenMatches(given: string): boolean {
    const g = Buffer.from(given)
    return g.length === this.expected.length && timingSafeEqual(g, this.expected)
  }
}

function presented(req: IncomingMessage): Presented {
  const h = req.headers
  return {
    method: req.method ?? 'GET',
    authorization: h.authorization,
    session: readCookie(h.cookie, cookieName(localPort(req))),
    origin: h.origin,
    referer: h.referer,
    host: h.host,
    secure: (req.socket as TLSSocket).encrypted === true,
  }
}

function localPort(req: IncomingMessage): number {
  return req.socket.localPort ?? 0
}
