import {describe, expect, it} from 'vitest'
import {type Batch, Coalescer} from '../../src/notify/coalesce.js'
import {FakeClock} from '../support/fake-clock.js'

/** Coalesce windows on the fake clock (SPEC §14 `coalesce`): counts, first/last times, floods. */

const T0 = Date.UTC(2026, 0, 1)

function setup() {
  const clock = new FakeClock(T0)
  const sent: {key: string; batch: Batch<number>; at: number}[] = []
  const c = new Coalescer<number>(clock, (key, batch) => sent.push({key, batch, at: clock.now() - T0}))
  return {clock, sent, c}
}

describe('Coalescer', () => {
  it('the first occurrence goes out at once; repeats inside the window fold into one message at its end', () => {
    const {clock, sent, c} = setup()
    expect(c.offer('k', 10_000, 1)).toBe(true)
    clock.advance(2000)
    expect(c.offer('k', 10_000, 2)).toBe(false)
    clock.advance(3000)
    expect(c.offer('k', 10_000, 3)).toBe(false)
    expect(sent).toHaveLength(1)
    expect(c.pendingCount()).toBe(2)
    clock.advance(5000)
    expect(sent.map((s) => [s.at, s.batch.item, s.batch.count, s.batch.first - T0, s.batch.last - T0])).toEqual([
      [0, 1, 1, 0, 0],
      [10_000, 3, 2, 2000, 5000],
    ])
  })

  it('a quiet window closes without a message, and the next occurrence goes out at once', () => {
    const {clock, sent, c} = setup()
    c.offer('k', 1000, 1)
    clock.advance(5000)
    expect(c.offer('k', 1000, 2)).toBe(true)
    expect(sent.map((s) => [s.at, s.batch.count])).toEqual([
      [0, 1],
      [5000, 1],
    ])
  })

  it('keys are independent', () => {
    const {clock, sent, c} = setup()
    c.offer('a', 1000, 1)
    c.offer('b', 1000, 2)
    c.offer('a', 1000, 3)
    clock.advance(1000)
    expect(sent.map((s) => `${s.key}:${s.batch.count}`)).toEqual(['a:1', 'b:1', 'a:1'])
  })

  it('a window of 0 sends every occurrence', () => {
    const {sent, c} = setup()
    for (let i = 0; i < 5; i++) expect(c.offer('k', 0, i)).toBe(true)
    expect(sent.map((s) => s.batch.count)).toEqual([1, 1, 1, 1, 1])
  })

  it('flood: a failure every second for 60 s with a 10 s window is 7 messages that account for all 60', () => {
    const {clock, sent, c} = setup()
    for (let s = 0; s < 60; s++) {
      c.offer('k', 10_000, s)
      clock.advance(1000)
    }
    clock.advance(60_000)
    expect(sent.map((m) => [m.at, m.batch.count])).toEqual([
      [0, 1],
      [10_000, 9],
      [20_000, 10],
      [30_000, 10],
      [40_000, 10],
      [50_000, 10],
      [60_000, 10],
    ])
    expect(sent.reduce((n, m) => n + m.batch.count, 0)).toBe(60)
  })

  it('flood with the default 10 min window: one message now, one with the other 59 when the window closes', () => {
    const {clock, sent, c} = setup()
    for (let s = 0; s < 60; s++) {
      c.offer('k', 600_000, s)
      clock.advance(1000)
    }
    expect(sent).toHaveLength(1)
    clock.advance(600_000)
    expect(sent.map((m) => [m.at, m.batch.count, m.batch.first - T0, m.batch.last - T0])).toEqual([
      [0, 1, 0, 0],
      [600_000, 59, 1000, 59_000],
    ])
  })

  it('flush sends what the windows hold and closes them', () => {
    const {clock, sent, c} = setup()
    c.offer('k', 10_000, 1)
    c.offer('k', 10_000, 2)
    c.offer('j', 10_000, 3)
    c.flush()
    expect(sent.map((s) => `${s.key}:${s.batch.count}`)).toEqual(['k:1', 'j:1', 'k:1'])
    expect(clock.pending()).toBe(0)
  })
})
