import {describe, expect, it} from 'vitest'
import {JitterGate} from '../../src/engine/jitter-gate.js'
import {FakeClock} from '../support/fake-clock.js'

const S = 1000
const T0 = Date.parse('2026-05-04T10:00:00Z')

/** A gate on a fake clock that records who started, when (seconds after T0) and with the gate or not. */
function harness() {
  const clock = new FakeClock(T0)
  const gate = new JitterGate(clock)
  const started: string[] = []
  const enter = (name: string, deadlineS: number) =>
    gate.enter(T0 + deadlineS * S, (pass) => started.push(`${name}@${(clock.now() - T0) / S}${pass.holds ? ' holds' : ' without gate'}`))
  return {clock, gate, started, enter}
}

describe('JitterGate (SPEC §4.4)', () => {
  it('a lone entrant starts at once, holding the gate, with no timer armed', () => {
    const {clock, gate, started, enter} = harness()
    enter('a', 60)
    expect(started).toEqual(['a@0 holds'])
    expect(gate.waiting).toBe(0)
    expect(clock.pending()).toBe(0)
  })

  it('a lone entrant whose deadline is already past still takes the free gate', () => {
    const {started, enter} = harness()
    enter('late', -5)
    expect(started).toEqual(['late@0 holds'])
  })

  it('under contention waiters start earliest deadline first when the holder releases, ties by arrival', () => {
    const {clock, gate, started, enter} = harness()
    enter('holder', 10)
    enter('b', 50)
    enter('c', 20)
    enter('d', 20)
    enter('e', 30)
    expect(started).toEqual(['holder@0 holds'])
    expect(gate.waiting).toBe(4)
    expect(clock.pending()).toBe(4)
    clock.advance(2 * S)
    gate.release()
    clock.advance(3 * S)
    gate.release()
    gate.release()
    clock.advance(1 * S)
    gate.release()
    expect(started).toEqual(['holder@0 holds', 'c@2 holds', 'd@5 holds', 'e@5 holds', 'b@6 holds'])
    expect(gate.waiting).toBe(0)
    // Their deadline timers were cancelled: nobody starts a second time.
    expect(clock.pending()).toBe(0)
    clock.advance(60 * S)
    expect(started).toHaveLength(5)
  })

  it('a waiter whose deadline passes starts anyway, exactly then, without the gate, and only once', () => {
    const {clock, gate, started, enter} = harness()
    enter('holder', 0)
    enter('b', 10)
    enter('c', 40)
    clock.advance(10 * S - 1)
    expect(started).toEqual(['holder@0 holds'])
    clock.advance(1)
    expect(started).toEqual(['holder@0 holds', 'b@10 without gate'])
    expect(gate.waiting).toBe(1)
    // The holder releases: the gate passes to c, not to b again.
    clock.advance(5 * S)
    gate.release()
    expect(started).toEqual(['holder@0 holds', 'b@10 without gate', 'c@15 holds'])
    clock.advance(60 * S)
    expect(started).toHaveLength(3)
    expect(clock.pending()).toBe(0)
  })

  it('waiters time out one by one, each at its own deadline', () => {
    const {clock, gate, started, enter} = harness()
    enter('holder', 0)
    enter('late', 30)
    enter('early', 10)
    enter('mid', 20)
    clock.advance(40 * S)
    expect(started).toEqual(['holder@0 holds', 'early@10 without gate', 'mid@20 without gate', 'late@30 without gate'])
    expect(gate.waiting).toBe(0)
    // The holder still holds the gate: a new entrant waits.
    enter('next', 100)
    expect(started).toHaveLength(4)
    gate.release()
    expect(started.at(-1)).toBe('next@40 holds')
  })

  it('release with no waiters frees the gate for the next entrant', () => {
    const {clock, gate, started, enter} = harness()
    enter('a', 10)
    clock.advance(3 * S)
    gate.release()
    enter('b', 10)
    expect(started).toEqual(['a@0 holds', 'b@3 holds'])
    expect(gate.waiting).toBe(0)
    expect(clock.pending()).toBe(0)
  })

  it('a run started without the gate does not hold it: once the holder releases, the gate is free', () => {
    const {clock, gate, started, enter} = harness()
    enter('holder', 0)
    enter('timed-out', 5)
    clock.advance(5 * S)
    gate.release()
    enter('next', 100)
    expect(started).toEqual(['holder@0 holds', 'timed-out@5 without gate', 'next@5 holds'])
  })

  it('clear() drops the waiters and cancels their timers', () => {
    const {clock, gate, started, enter} = harness()
    enter('holder', 0)
    enter('b', 10)
    enter('c', 20)
    expect(clock.pending()).toBe(2)
    gate.clear()
    expect(gate.waiting).toBe(0)
    expect(clock.pending()).toBe(0)
    clock.advance(60 * S)
    gate.release()
    expect(started).toEqual(['holder@0 holds'])
  })
})
