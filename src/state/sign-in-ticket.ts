import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

/**
 * One-time sign-in links for the dashboard (`http://…/#signin=<ticket>`), printed by
 * `sched serve` and `sched status`. A ticket is `<expires>.<nonce>.<mac>`: the HMAC-SHA256 of
 * the first two parts keyed with the API token, so anything that can read the token can mint
 * one (no daemon round trip) and only the token's holder can. It is short-lived and the daemon
 * accepts each nonce once, so a link left in a terminal's scrollback or the journal is worth
 * nothing after use or after TICKET_LIFETIME_MS — unlike the token itself, which is never
 * printed. It travels in the URL fragment, which browsers never send to a server.
 */
export const TICKET_LIFETIME_MS = 15 * 60_000

export type TicketCheck = {readonly ok: true; readonly nonce: string; readonly expires: number} | {readonly ok: false; readonly reason: string}

export function mintTicket(token: string, now: number, nonce: string = randomBytes(12).toString('base64url')): string {
  const expires = Math.floor((now + TICKET_LIFETIME_MS) / 1000)
  return `${expires}.${nonce}.${mac(token, expires, nonce)}`
}

/** Whether `ticket` was minted with `token` and is still valid at `now` (single use is the caller's). */
export function checkTicket(ticket: string, token: string, now: number): TicketCheck {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{43})$/.exec(ticket)
  if (!m) return {ok: false, reason: 'not a sign-in link'}
  const expires = Number(m[1])
  const given = Buffer.from(m[3])
  const expected = Buffer.from(mac(token, expires, m[2]))
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return {ok: false, reason: 'not a sign-in link of this daemon'}
  // A ticket claiming a far future was not minted here (or the clock jumped): refused too.
  if (expires * 1000 <= now || expires * 1000 > now + TICKET_LIFETIME_MS + 60_000) return {ok: false, reason: 'the sign-in link has expired'}
  return {ok: true, nonce: m[2], expires: expires * 1000}
}

/** The dashboard link for a daemon at `url`. */
export function signInUrl(url: string, token: string, now: number): string {
  return `${url}/#signin=${mintTicket(token, now)}`
}

function mac(token: string, expires: number, nonce: string): string {
  return createHmac('sha256', token).update(`sched-sign-in:${expires}.${nonce}`).digest('base64url')
}
