import type {Sql} from './db.js'
import {type LeaseAction, leaseAction, nextVerdictAt} from './lease-verdict.js'
import type {Owner} from './runs.js'
import type {SlotView} from './slot-plan.js'

/**
 * Service slot leases with fencing tokens (SPEC §13). A slot is held by one node until its lease
 * expires (database time); taking a slot draws a new token from a sequence, so a later holder
 * always has a larger one, and whatever a holder does to the slot row is conditioned on its token.
 */
export interface Lease {
  readonly service: string
  readonly slot: string
  readonly token: number
}

/** Takes a free or expired slot; its fencing token, or null when a live holder has it. */
export async function acquireSlot(sql: Sql, service: string, slot: string, me: Owner, leaseMs: number): Promise<number | null> {
  const {rows} = await sql.query<{token: string}>(
    `INSERT INTO sched.slots AS s (service, slot, node, incarnation, token, expires_at)
     VALUES ($1, $2, $3, $4, nextval('sched.fencing_tokens'), now() + $5 * interval '1 millisecond')
     ON CONFLICT (service, slot) DO UPDATE SET node = excluded.node, incarnation = excluded.incarnation, token = excluded.token, expires_at = excluded.expires_at
     WHERE s.node IS NULL OR s.expires_at <= now()
     RETURNING token`,
    [service, slot, me.node, me.incarnation, leaseMs],
  )
  return rows[0] ? Number(rows[0].token) : null
}

/** Extends every lease this incarnation still holds; the ones missing from the answer are lost. */
export async function renewSlots(sql: Sql, me: Owner, leaseMs: number): Promise<Lease[]> {
  const {rows} = await sql.query<{service: string; slot: string; token: string}>(
    `UPDATE sched.slots SET expires_at = now() + $3 * interval '1 millisecond'
     WHERE node = $1 AND incarnation = $2 AND expires_at > now() RETURNING service, slot, token`,
    [me.node, me.incarnation, leaseMs],
  )
  return rows.map((r) => ({service: r.service, slot: r.slot, token: Number(r.token)}))
}

/** Frees a slot at once (its instance has stopped) — only if `token` is still the holder's. */
export async function releaseSlot(sql: Sql, lease: Lease): Promise<boolean> {
  const {rowCount} = await sql.query(
    'UPDATE sched.slots SET node = NULL, incarnation = NULL, expires_at = now() WHERE service = $1 AND slot = $2 AND token = $3',
    [lease.service, lease.slot, lease.token],
  )
  return rowCount === 1
}

export interface SlotRow extends Lease {
  readonly node: string | null
  readonly expires_at: number
  /** Held and not expired. */
  readonly live: boolean
}

export async function listSlots(sql: Sql): Promise<{slots: SlotRow[]; dbNow: number}> {
  const {rows} = await sql.query<{service: string; slot: string; token: string; node: string | null; expires_at: Date; live: boolean; db_now: Date}>(
    'SELECT service, slot, token, node, expires_at, (node IS NOT NULL AND expires_at > now()) AS live, now() AS db_now FROM sched.slots ORDER BY service, slot',
  )
  const dbNow = rows[0]?.db_now.getTime() ?? (await sql.query<{n: Date}>('SELECT now() AS n')).rows[0].n.getTime()
  return {slots: rows.map((r) => ({service: r.service, slot: r.slot, token: Number(r.token), node: r.node, expires_at: r.expires_at.getTime(), live: r.live})), dbNow}
}

/**
 * The slots of one service as slotsToTake() sees them. A slot that was never taken has been free
 * since the cluster first saw the service.
 */
export function slotViews(rows: readonly SlotRow[], service: string, keys: readonly string[], firstSeenAt: number, dbNow: number): Map<string, SlotView> {
  const out = new Map<string, SlotView>()
  for (const key of keys) {
    const row = rows.find((r) => r.service === service && r.slot === key)
    if (row?.live) out.set(key, {holder: row.node, freeForMs: 0})
    else out.set(key, {holder: null, freeForMs: Math.max(0, dbNow - (row ? row.expires_at : firstSeenAt))})
  }
  return out
}

export interface HeldLease extends Lease {
  /** Local clock when the acquisition or renewal that last confirmed it was sent. */
  readonly confirmedAt: number
  /** Local clock when the acquisition was answered: a renewal sent before it cannot judge it. */
  readonly answeredAt: number
  readonly lost: boolean
}

/**
 * The leases this node believes it holds, with when each was last confirmed — what the
 * supervisor reads to keep, stop or kill each instance (lease-verdict.ts). It never asks the
 * database: a node cut off from it still knows when to let go.
 */
export class LeaseBook {
  private readonly held = new Map<string, HeldLease>()

  acquired(lease: Lease, sentAt: number, answeredAt = sentAt): void {
    this.held.set(key(lease), {...lease, confirmedAt: sentAt, answeredAt, lost: false})
  }

  /** The answer of renewSlots(), sent at `sentAt`: leases missing from it are lost. Returns them. */
  renewed(current: readonly Lease[], sentAt: number): HeldLease[] {
    const still = new Map(current.map((l) => [key(l), l]))
    const lost: HeldLease[] = []
    for (const [k, lease] of this.held) {
      const now = still.get(k)
      if (now && now.token === lease.token) this.held.set(k, {...lease, confirmedAt: sentAt})
      // Taken while this renewal was on its way: it may have missed the new row.
      else if (!now && lease.answeredAt >= sentAt) continue
      else if (!lease.lost) {
        const gone = {...lease, lost: true}
        this.held.set(k, gone)
        lost.push(gone)
      }
    }
    return lost
  }

  /** The instance is down and the slot released (or given up): forget it. */
  forget(lease: Pick<Lease, 'service' | 'slot'>): void {
    this.held.delete(key(lease))
  }

  get(service: string, slot: string): HeldLease | undefined {
    return this.held.get(key({service, slot}))
  }

  all(): HeldLease[] {
    return [...this.held.values()]
  }

  /** What to do with each held instance now, and when that can next change (lease-verdict.ts). */
  verdicts(now: number, leaseMs: number, gracefulStopMs: (service: string) => number): (HeldLease & {action: LeaseAction; nextAt: number | undefined})[] {
    return this.all().map((l) => {
      const timing = {confirmedAt: l.confirmedAt, leaseMs, gracefulStopMs: gracefulStopMs(l.service)}
      return {...l, action: leaseAction(timing, now, l.lost), nextAt: l.lost ? undefined : nextVerdictAt(timing, now)}
    })
  }
}

function key(l: Pick<Lease, 'service' | 'slot'>): string {
  return `${l.service}\u0000${l.slot}`
}
