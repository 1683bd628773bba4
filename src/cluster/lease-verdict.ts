/**
 * What a node must do with a service instance whose slot lease it holds (SPEC §13, fencing), as
 * data the supervisor acts on. The node cannot know when the database will consider the lease
 * expired, only when it last confirmed it: a renewal sent at local time S extends the lease to
 * the database's now() + lease, and that now() came after S. So the lease is safely this node's
 * until S + lease (less a margin for the kill itself to land); past it, another node may take
 * the slot and start its own instance. The node therefore begins the stop ladder early enough
 * for SIGKILL to fall at that deadline — whether or not the database can be reached — and an
 * instance whose slot the database says is no longer ours is killed at once.
 *
 * Renewals come every third of a lease, so the ladder may only start once a renewal or two
 * have failed: it gets graceful_stop, at most a quarter of the lease, before the deadline.
 *
 *   keep  the lease is good: leave the instance alone
 *   stop  the deadline is within that lead: start the stop ladder now
 *   kill  the deadline has passed, or the slot was lost: SIGKILL now, no grace
 */
export type LeaseAction = 'keep' | 'stop' | 'kill'

export interface LeaseTiming {
  /** Local clock (ms) when the renewal that last confirmed the lease was sent. */
  readonly confirmedAt: number
  readonly leaseMs: number
  /** The instance's graceful_stop (ms): the ladder must fit before the deadline. */
  readonly gracefulStopMs: number
}

/** Time kept back for the kill and the process's exit to land before another node may start. */
export function leaseMarginMs(leaseMs: number): number {
  return Math.min(1000, leaseMs / 10)
}

export function leaseDeadline(t: Pick<LeaseTiming, 'confirmedAt' | 'leaseMs'>): number {
  return t.confirmedAt + t.leaseMs - leaseMarginMs(t.leaseMs)
}

/** How long before the deadline the stop ladder starts. */
export function stopLeadMs(t: Pick<LeaseTiming, 'leaseMs' | 'gracefulStopMs'>): number {
  return Math.min(t.gracefulStopMs, t.leaseMs / 4)
}

/** When the stop ladder starts and when SIGKILL falls, on the node's clock. */
export function verdictTimes(t: LeaseTiming): {readonly stopAt: number; readonly killAt: number} {
  const killAt = leaseDeadline(t)
  return {stopAt: killAt - stopLeadMs(t), killAt}
}

export function leaseAction(t: LeaseTiming, now: number, lost = false): LeaseAction {
  const {stopAt, killAt} = verdictTimes(t)
  if (lost || now >= killAt) return 'kill'
  if (now >= stopAt) return 'stop'
  return 'keep'
}

/** The next time after `now` that leaseAction's answer changes without a renewal; undefined once it is `kill`. */
export function nextVerdictAt(t: LeaseTiming, now: number): number | undefined {
  const {stopAt, killAt} = verdictTimes(t)
  return stopAt > now ? stopAt : killAt > now ? killAt : undefined
}
