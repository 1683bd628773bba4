import {afterEach, describe, expect, it, vi} from 'vitest'
import {systemClock} from '../../src/core/clock.js'

describe('systemClock.setTimer', () => {
  afterEach(() => vi.useRealTimers())

  it('waits longer than a Node timeout can hold (2^31 − 1 ms) instead of firing at once', () => {
    vi.useFakeTimers()
    const fired = vi.fn()
    const thirtyDays = 30 * 86_400_000
    systemClock.setTimer(thirtyDays, fired)
    vi.advanceTimersByTime(2 ** 31 - 1)
    expect(fired).not.toHaveBeenCalled()
    vi.advanceTimersByTime(thirtyDays - (2 ** 31 - 1) - 1)
    expect(fired).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fired).toHaveBeenCalledTimes(1)
  })

  it('cancel works on a chained wait', () => {
    vi.useFakeTimers()
    const fired = vi.fn()
    const handle = systemClock.setTimer(3 * 2 ** 31, fired)
    vi.advanceTimersByTime(2 ** 31)
    handle.cancel()
    vi.advanceTimersByTime(4 * 2 ** 31)
    expect(fired).not.toHaveBeenCalled()
  })
})
