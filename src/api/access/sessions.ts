import {randomBytes} from 'node:crypto'

/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 12 * 3_600_000
/** Sessions kept at most; signing in past it ends the least recently used one. */
export const MAX_SESSIONS = 1000

/**
 * Dashboard sessions, in the daemon's memory only: a daemon restart signs every browser out
 * (the page asks for the token again). Ids are 256 random bits. Also remembers which one-time
 * sign-in tickets were used, until they expire.
 */
export class Sessions {
  /** id → last use; a Map keeps insertion order, so re-inserting on use makes it an LRU. */
  private readonly sessions = new Map<string, number>()
  private readonly usedTickets = new Map<string, number>()

  constructor(private readonly now: () => number) {}

  create(): string {
    const id = randomBytes(32).toString('base64url')
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!)
    this.sessions.set(id, this.now())
    return id
  }

  /** Whether `id` is a live session; using it keeps it alive. */
  use(id: string): boolean {
    const last = this.sessions.get(id)
    if (last === undefined) return false
    this.sessions.delete(id)
    const now = this.now()
    if (now - last > SESSION_IDLE_MS) return false
    this.sessions.set(id, now)
    return true
  }

  end(id: string): void {
    this.sessions.delete(id)
  }

  /** Marks a ticket's nonce used; false when it already was. */
  redeem(nonce: string, expires: number): boolean {
    const now = this.now()
    for (const [n, until] of this.usedTickets) if (until <= now) this.usedTickets.delete(n)
    if (this.usedTickets.has(nonce)) return false
    this.usedTickets.set(nonce, expires)
    return true
  }
}
