import {describe, expect, it} from 'vitest'
import {type Presented, decideAccess} from '../../src/api/access/access.js'
import {clearedCookie, cookieName, readCookie, sessionCookie} from '../../src/api/access/cookie.js'
import {sameOrigin} from '../../src/api/access/same-origin.js'
import {MAX_SESSIONS, SESSION_IDLE_MS, Sessions} from '../../src/api/access/sessions.js'
import {etagMatches, pickEncoding} from '../../src/api/dashboard/encoding.js'
import {TICKET_LIFETIME_MS, checkTicket, mintTicket, signInUrl} from '../../src/state/sign-in-ticket.js'

const TOKEN = 'a'.repeat(64)
const valid = {token: (t: string) => t === TOKEN, session: (id: string) => id === 'live'}
const base: Presented = {method: 'GET', host: '127.0.0.1:9477', secure: false}

describe('decideAccess: who may use the API, before routing', () => {
  const cases: [string, Partial<Presented>, string][] = [
    ['nothing', {}, '401'],
    ['the bearer token', {authorization: `Bearer ${TOKEN}`}, 'bearer'],
    ['the bearer token, any case of "bearer"', {authorization: `bearer ${TOKEN}`}, 'bearer'],
    ['a wrong bearer token', {authorization: 'Bearer nope'}, '401'],
    ['the token without "Bearer"', {authorization: TOKEN}, '401'],
    ['Basic credentials', {authorization: 'Basic Zm9vOmJhcg=='}, '401'],
    ['a wrong bearer token with a live cookie: the header decides', {authorization: 'Bearer nope', session: 'live'}, '401'],
    ['a bearer POST from another origin: bearer clients are not browsers', {method: 'POST', authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example'}, 'bearer'],
    ['a live cookie, GET', {session: 'live'}, 'cookie'],
    ['an unknown or expired cookie', {session: 'old'}, '401'],
    ['a cookie GET from another origin (SameSite keeps it out; reading is harmless)', {session: 'live', origin: 'http://evil.example'}, 'cookie'],
    ['a cookie POST from the same origin', {method: 'POST', session: 'live', origin: 'http://127.0.0.1:9477'}, 'cookie'],
    ['a cookie POST from another origin', {method: 'POST', session: 'live', origin: 'http://evil.example'}, '403'],
    ['a cookie POST from another port', {method: 'POST', session: 'live', origin: 'http://127.0.0.1:9478'}, '403'],
    ['a cookie POST with Origin null', {method: 'POST', session: 'live', origin: 'null'}, '403'],
    ['a cookie POST saying nothing of where it comes from', {method: 'POST', session: 'live'}, '403'],
    ['a cookie POST with a same-origin Referer only', {method: 'POST', session: 'live', referer: 'http://127.0.0.1:9477/tasks/x'}, 'cookie'],
    ['a cookie POST with a foreign Referer only', {method: 'POST', session: 'live', referer: 'http://evil.example/'}, '403'],
    ['a cookie DELETE from another origin', {method: 'DELETE', session: 'live', origin: 'http://evil.example'}, '403'],
  ]
  for (const [what, presented, expected] of cases) {
    it(what, () => {
      const out = decideAccess({...base, ...presented}, valid)
      expect(out.ok ? out.via : String(out.status)).toBe(expected)
    })
  }
})

describe('sameOrigin', () => {
  it('compares scheme, host and port, any case; https only over TLS', () => {
    expect(sameOrigin({origin: 'http://LOCALHOST:9477', host: 'localhost:9477'}, false)).toBe(true)
    expect(sameOrigin({origin: 'https://localhost:9477', host: 'localhost:9477'}, false)).toBe(false)
    expect(sameOrigin({origin: 'https://localhost:9477', host: 'localhost:9477'}, true)).toBe(true)
    expect(sameOrigin({origin: 'http://localhost:9477'}, false)).toBe(false)
    expect(sameOrigin({referer: 'not a url', host: 'localhost:9477'}, false)).toBe(false)
  })
})

describe('the session cookie', () => {
  it('is named for the port, HttpOnly, SameSite=Strict, Path=/, Secure only over TLS', () => {
    expect(cookieName(9477)).toBe('sched_session_9477')
    expect(sessionCookie('s', 'v', false)).toBe('s=v; HttpOnly; SameSite=Strict; Path=/')
    expect(sessionCookie('s', 'v', true)).toBe('s=v; HttpOnly; SameSite=Strict; Path=/; Secure')
    expect(clearedCookie('s', false)).toBe('s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0')
  })

  it('is read from a Cookie header among others', () => {
    expect(readCookie('a=1; sched_session_1=xyz; b=2', 'sched_session_1')).toBe('xyz')
    expect(readCookie('sched_session_10=xyz', 'sched_session_1')).toBeUndefined()
    expect(readCookie(undefined, 'x')).toBeUndefined()
  })
})

describe('Sessions', () => {
  it('ids are 256 random bits; a session lives while used and ends after SESSION_IDLE_MS idle', () => {
    let now = 0
    const s = new Sessions(() => now)
    const id = s.create()
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(s.create()).not.toBe(id)
    now += SESSION_IDLE_MS
    expect(s.use(id)).toBe(true)
    now += SESSION_IDLE_MS + 1
    expect(s.use(id)).toBe(false)
    expect(s.use(id)).toBe(false)
  })

  it('ends on sign-out, and the least recently used one past MAX_SESSIONS', () => {
    const s = new Sessions(() => 0)
    const first = s.create()
    const second = s.create()
    s.end(second)
    expect(s.use(second)).toBe(false)
    expect(s.use(first)).toBe(true)
    for (let i = 0; i < MAX_SESSIONS; i++) s.create()
    expect(s.use(first)).toBe(false)
  })

  it('redeems a ticket nonce once, forgetting it after it expires', () => {
    let now = 0
    const s = new Sessions(() => now)
    expect(s.redeem('n', 100)).toBe(true)
    expect(s.redeem('n', 100)).toBe(false)
    now = 100
    expect(s.redeem('n', 200)).toBe(true)
  })
})

describe('sign-in tickets', () => {
  const now = 1_700_000_000_000
  it('a minted ticket checks with the same token until it expires', () => {
    const ticket = mintTicket(TOKEN, now, 'nonce-123')
    expect(checkTicket(ticket, TOKEN, now)).toEqual({ok: true, nonce: 'nonce-123', expires: Math.floor((now + TICKET_LIFETIME_MS) / 1000) * 1000})
    expect(checkTicket(ticket, TOKEN, now + TICKET_LIFETIME_MS - 1000).ok).toBe(true)
    expect(checkTicket(ticket, TOKEN, now + TICKET_LIFETIME_MS)).toEqual({ok: false, reason: 'the sign-in link has expired'})
  })

  it('is refused with another token, altered, far in the future, or malformed', () => {
    const ticket = mintTicket(TOKEN, now, 'nonce-123')
    expect(checkTicket(ticket, 'b'.repeat(64), now).ok).toBe(false)
    const [exp, nonce, mac] = ticket.split('.')
    expect(checkTicket(`${Number(exp) + 1}.${nonce}.${mac}`, TOKEN, now).ok).toBe(false)
    expect(checkTicket(`${exp}.nonce-124.${mac}`, TOKEN, now).ok).toBe(false)
    expect(checkTicket(mintTicket(TOKEN, now + 3_600_000, 'nonce-125'), TOKEN, now).ok).toBe(false)
    for (const bad of ['', 'x', `${exp}.${nonce}`, `${exp}.${nonce}.${mac}.x`, TOKEN]) expect(checkTicket(bad, TOKEN, now).ok, bad).toBe(false)
  })

  it('the link carries the ticket in the fragment, never the token', () => {
    const url = signInUrl('http://127.0.0.1:9477', TOKEN, now)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:9477\/#signin=\d+\.[\w-]+\.[\w-]{43}$/)
    expect(url).not.toContain(TOKEN)
  })
})

describe('asset negotiation', () => {
  it('pickEncoding prefers brotli, honours q=0 and *', () => {
    const cases: [string | undefined, string | undefined][] = [
      [undefined, undefined],
      ['', undefined],
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['BR;Q=0.5', 'br'],
      ['*', 'br'],
      ['*;q=0', undefined],
      ['gzip;q=0, *', 'br'],
      ['identity', undefined],
    ]
    for (const [header, expected] of cases) expect(pickEncoding(header), String(header)).toBe(expected)
  })

  it('etagMatches compares weakly, in lists and with *', () => {
    expect(etagMatches('W/"abc"', 'W/"abc"')).toBe(true)
    expect(etagMatches('"abc"', 'W/"abc"')).toBe(true)
    expect(etagMatches('"x", W/"abc"', 'W/"abc"')).toBe(true)
    expect(etagMatches('*', 'W/"abc"')).toBe(true)
    expect(etagMatches('"abd"', 'W/"abc"')).toBe(false)
    expect(etagMatches(undefined, 'W/"abc"')).toBe(false)
  })
})
