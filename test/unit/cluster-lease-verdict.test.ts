import {describe, expect, it} from 'vitest'
import {type LeaseAction, leaseAction, leaseDeadline, leaseMarginMs, nextVerdictAt, stopLeadMs} from '../../src/cluster/lease-verdict.js'

describe('leaseAction: stop an instance before another node may start it', () => {
  const t = {confirmedAt: 100_000, leaseMs: 10_000, gracefulStopMs: 2000}
  // Deadline: 100 000 + 10 000 − 1 000 (margin) = 109 000; the ladder starts 2 000 before it.

  it.each<[string, number, boolean, LeaseAction]>([
    ['just renewed', 100_000, false, 'keep'],
    ['two renewals missed, still inside', 106_999, false, 'keep'],
    ['graceful_stop before the deadline: start the ladder', 107_000, false, 'stop'],
    ['just before the deadline', 108_999, false, 'stop'],
    ['at the deadline: SIGKILL', 109_000, false, 'kill'],
    ['long past it', 200_000, false, 'kill'],
    ['the database says the slot is someone else\'s: kill at once', 100_001, true, 'kill'],
  ])('%s (t = %i) → %s', (_name, now, lost, expected) => {
    expect(leaseAction(t, now, lost)).toBe(expected)
  })

  it('graceful_stop longer than a quarter lease: the ladder gets a quarter, so renewals on time never stop it', () => {
    const long = {confirmedAt: 0, leaseMs: 3000, gracefulStopMs: 30_000}
    // Renewed every second (a third of the lease); a late one still keeps the instance.
    expect(leaseAction(long, 1, false)).toBe('keep')
    expect(leaseAction(long, 1949, false)).toBe('keep')
    expect(stopLeadMs(long)).toBe(750)
    expect(leaseAction(long, 1950, false)).toBe('stop') // deadline 2 700 − 750
    expect(leaseAction(long, 2700, false)).toBe('kill')
  })

  it('nextVerdictAt: when the answer changes next without a renewal (the guard wakes then)', () => {
    const long = {confirmedAt: 0, leaseMs: 3000, gracefulStopMs: 30_000}
    expect(nextVerdictAt(long, 0)).toBe(1950)
    expect(nextVerdictAt(long, 1950)).toBe(2700)
    expect(nextVerdictAt(long, 2700)).toBeUndefined()
  })

  it('the margin is a tenth of the lease, at most a second', () => {
    expect(leaseMarginMs(10_000)).toBe(1000)
    expect(leaseMarginMs(60_000)).toBe(1000)
    expect(leaseMarginMs(2000)).toBe(200)
    expect(leaseDeadline({confirmedAt: 0, leaseMs: 2000})).toBe(1800)
  })
})
