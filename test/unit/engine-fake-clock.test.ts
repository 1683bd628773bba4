import {describe, expect, it} from 'vitest'
import {FakeClock} from '../support/fake-clock.js'

/** The fake clock the engine tests stand on: if it is wrong, they prove nothing. */
describe('FakeClock', () => {
  it('runs due timers in time order, ties in arming order, with now() at each due instant', () => {
    const clock = new FakeClock(1000)
    const seen: string[] = []
    clock.setTimer(30, () => seen.push(`c@${clock.now()}`))
    clock.setTimer(10, () => seen.push(`a@${clock.now()}`))
    clock.setTimer(30, () => seen.push(`d@${clock.now()}`))
    clock.setTimer(20, () => seen.push(`b@${clock.now()}`))
    clock.setTimer(31, () => seen.push(`late@${clock.now()}`))
    clock.advance(30)
    expect(seen).toEqual(['a@1010', 'b@1020', 'c@1030', 'd@1030'])
    expect(clock.now()).toBe(1030)
    expect(clock.pending()).toBe(1)
  })

  it('runs timers armed by callbacks when they come due within the same advance', () => {
    const clock = new FakeClock(0)
    const seen: number[] = []
    const tick = () => {
      seen.push(clock.now())
      clock.setTimer(7, tick)
    }
    clock.setTimer(7, tick)
    clock.advance(30)
    expect(seen).toEqual([7, 14, 21, 28])
    expect(clock.now()).toBe(30)
    expect(clock.pending()).toBe(1)
    clock.setTimer(0, () => seen.push(-clock.now()))
    clock.advance(0)
    expect(seen.at(-1)).toBe(-30)
  })

  it('cancel() disarms, also from inside another callback, and is idempotent', () => {
    const clock = new FakeClock(0)
    const seen: string[] = []
    const b = clock.setTimer(20, () => seen.push('b'))
    clock.setTimer(10, () => {
      seen.push('a')
      b.cancel()
    })
    expect(clock.pending()).toBe(2)
    clock.advance(100)
    b.cancel()
    expect(seen).toEqual(['a'])
    expect(clock.pending()).toBe(0)
  })

  it('advanceTo() lands exactly on the instant; time never moves backwards through advance', () => {
    const clock = new FakeClock(500)
    clock.advanceTo(800)
    expect(clock.now()).toBe(800)
    expect(() => clock.advanceTo(799)).toThrow(RangeError)
    expect(() => clock.advance(-1)).toThrow(RangeError)
  })

  it('set() jumps without running timers; runDue() then runs the overdue ones at the new time', () => {
    const clock = new FakeClock(0)
    const seen: number[] = []
    clock.setTimer(10, () => seen.push(clock.now()))
    clock.setTimer(5000, () => seen.push(clock.now()))
    clock.set(1000)
    expect(seen).toEqual([])
    clock.runDue()
    expect(seen).toEqual([1000])
    clock.set(0)
    clock.runDue()
    expect(seen).toEqual([1000])
    expect(clock.pending()).toBe(1)
  })

  it('refuses delays a Node timer cannot hold, and records every delay', () => {
    const clock = new FakeClock(0)
    expect(() => clock.setTimer(2 ** 31, () => {})).toThrow(RangeError)
    expect(() => clock.setTimer(Number.NaN, () => {})).toThrow(RangeError)
    clock.setTimer(2 ** 31 - 1, () => {})
    clock.setTimer(-5, () => {})
    expect(clock.delays).toEqual([2 ** 31 - 1, -5])
  })
})
