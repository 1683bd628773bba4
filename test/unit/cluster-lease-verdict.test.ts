import {describe, expect, it} from 'vitest'
import {type LeaseAction, leaseAction, leaseDeadline, leaseMarginMs} from '../../src/cluster/lease-verdict.js'

describe('leaseAction: stop an instance before another node may start it', () => {
  const t = {confirmedAt: 100_000, leaseMs: 10_000, gracefulStopMs: 5000}
  // Deadline: 100 000 + 10 000 − 1 000 (margin) = 109 000; the ladder starts 5 000 before it.

  it.each<[string, number, boolean, LeaseAction]>([
    ['just renewed', 100_000, false, 'keep'],
    ['a renewal missed, still well inside', 103_999, false, 'keep'],
    ['graceful_stop before the deadline: start the ladder', 104_000, false, 'stop'],
    ['just before the deadline', 108_999, false, 'stop'],
    ['at the deadline: SIGKILL', 109_000, false, 'kill'],
    ['long past it', 200_000, false, 'kill'],
    ['the database says the slot is someone else\'s: kill at once', 100_001, true, 'kill'],
  ])('%s (t = %i) → %s', (_name, now, lost, expected) => {
    expect(leaseAction(t, now, lost)).toBe(expected)
  })

  it('graceful_stop longer than the lease: the ladder starts at once when a renewal is late', () => {
    expect(leaseAction({confirmedAt: 0, leaseMs: 3000, gracefulStopMs: 30_000}, 1, false)).toBe('stop')
  })

  it('the margin is a tenth of the lease, at most a second', () => {
    expect(leaseMarginMs(10_000)).toBe(1000)
    expect(leaseMarginMs(60_000)).toBe(1000)
    expect(leaseMarginMs(2000)).toBe(200)
    expect(leaseDeadline({confirmedAt: 0, leaseMs: 2000})).toBe(1800)
  })
})
