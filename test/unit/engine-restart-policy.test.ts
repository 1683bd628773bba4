import {describe, expect, it} from 'vitest'
import {NS} from '../../src/core/duration.js'
import type {Backoff, Restart, Unit} from '../../src/core/types.js'
import {HEALTHY, type InstanceExit, type NextStep, type SlotCounters, afterExit} from '../../src/engine/restart-policy.js'

/**
 * afterExit(): what happens to a service instance slot when its process exits (SPEC §2 restart,
 * restart_delay, restart_backoff, healthy_after, start_retries). Tables for single exits,
 * sequences for what the slot remembers between instances.
 */

type Policy = Pick<Unit, 'restart' | 'restart_delay' | 'restart_backoff' | 'healthy_after' | 'start_retries'>


function policy(p: {restart?: Restart; delayMs?: number; backoff?: Backoff; healthyMs?: number; startRetries?: number} = {}): Policy {
  return {
    restart: p.restart ?? 'always',
    restart_delay: (p.delayMs ?? 1000) * NS.ms,
    restart_backoff: p.backoff ?? 'exponential',
    healthy_after: (p.healthyMs ?? 10_000) * NS.ms,
    start_retries: p.startRetries ?? 3,
  }
}

/** The exits the supervisor reports: `failure` is what the end reason says (not clean, not stopped by sched). */
const failedAfter = (livedMs: number): InstanceExit => ({livedMs, clean: false, stoppedBySched: false, failure: true})
const cleanAfter = (livedMs: number): InstanceExit => ({livedMs, clean: true, stoppedBySched: false, failure: false})
const stoppedAfter = (livedMs: number): InstanceExit => ({livedMs, clean: false, stoppedBySched: true, failure: false})

const restartIn = (delayMs: number): NextStep => ({action: 'restart', delayMs})
const NONE: NextStep = {action: 'none'}
const FATAL: NextStep = {action: 'fatal'}

/** Feeds exits to one slot in order, threading its counters as the supervisor does. */
function play(p: Policy, exits: readonly InstanceExit[], start: SlotCounters = HEALTHY) {
  let counters = start
  return exits.map((exit) => {
    const decision = afterExit(p, counters, exit)
    counters = decision.counters
    return decision
  })
}

/** A compact trace: "restart 200", "none", "FATAL". */
function trace(p: Policy, exits: readonly InstanceExit[], start: SlotCounters = HEALTHY): string[] {
  return play(p, exits, start).map((d) => (d.next.action === 'restart' ? `restart ${d.next.delayMs}` : d.next.action === 'fatal' ? 'FATAL' : 'none'))
}

const times = <T>(n: number, value: T): T[] => Array.from({length: n}, () => value)

describe('afterExit: restart policy (one exit, healthy slot)', () => {
  // Slow exits (past healthy_after) so that the fast-failure streak plays no part.
  const slow = 20_000
  it.each([
    ['always', 'failed', failedAfter(slow), restartIn(1000)],
    ['always', 'clean exit', cleanAfter(slow), restartIn(1000)],
    ['on_failure', 'failed', failedAfter(slow), restartIn(1000)],
    ['on_failure', 'clean exit', cleanAfter(slow), NONE],
    ['never', 'failed', failedAfter(slow), NONE],
    ['never', 'clean exit', cleanAfter(slow), NONE],
    ['always', 'stopped by sched', stoppedAfter(slow), NONE],
    ['on_failure', 'stopped by sched', stoppedAfter(slow), NONE],
    ['never', 'stopped by sched', stoppedAfter(slow), NONE],
  ] as const)('restart = %s, %s → %o', (restart, _what, exit, next) => {
    const d = afterExit(policy({restart}), HEALTHY, exit)
    expect(d.next).toEqual(next)
    expect(d.fatal).toBe(false)
  })

  it('on_failure is judged by the failure flag, not by `clean` alone', () => {
    const p = policy({restart: 'on_failure'})
    // Not clean but not a failure either (what a stop by sched looks like without the flag).
    expect(afterExit(p, HEALTHY, {livedMs: slow, clean: false, stoppedBySched: false, failure: false}).next).toEqual(NONE)
    expect(afterExit(p, HEALTHY, {livedMs: slow, clean: false, stoppedBySched: false, failure: true}).next).toEqual(restartIn(1000))
  })

  it('a clean exit never restarts under on_failure, however short or long it lived', () => {
    const p = policy({restart: 'on_failure', healthyMs: 1000})
    for (const lived of [0, 1, 999, 1000, 60_000]) expect(afterExit(p, HEALTHY, cleanAfter(lived))).toMatchObject({next: NONE, fatal: false})
    // Also after a streak of fast failures: the clean exit is not one more.
    expect(afterExit(p, {restarts: 3, fastFailures: 3}, cleanAfter(0))).toMatchObject({next: NONE, fatal: false, counters: {fastFailures: 0}})
  })

  it('never: a fast failure is not FATAL — nothing restarts it, so there is no loop to stop (its run ends failed)', () => {
    const p = policy({restart: 'never', healthyMs: 1000, startRetries: 0})
    expect(afterExit(p, HEALTHY, failedAfter(10))).toEqual({next: NONE, counters: {restarts: 0, fastFailures: 1}, fatal: false})
  })
})

describe('afterExit: restart_delay and restart_backoff across consecutive restarts (n from 0, capped at 60 s)', () => {
  // Failures that never trip FATAL: start_retries well above the number of exits.
  const many = (p: Parameters<typeof policy>[0]) => policy({startRetries: 100, healthyMs: 10_000, ...p})

  it('constant: d every time', () => {
    expect(trace(many({backoff: 'constant', delayMs: 1500}), times(6, failedAfter(0)))).toEqual(times(6, 'restart 1500'))
  })

  it('linear: d·(n+1)', () => {
    expect(trace(many({backoff: 'linear', delayMs: 1000}), times(6, failedAfter(0)))).toEqual(['restart 1000', 'restart 2000', 'restart 3000', 'restart 4000', 'restart 5000', 'restart 6000'])
  })

  it('linear is capped at 60 s', () => {
    const delays = play(many({backoff: 'linear', delayMs: 25_000}), times(5, failedAfter(0))).map((d) => (d.next as {delayMs: number}).delayMs)
    expect(delays).toEqual([25_000, 50_000, 60_000, 60_000, 60_000])
  })

  it('exponential: d·2^n, capped at 60 s', () => {
    expect(trace(many({backoff: 'exponential', delayMs: 1000}), times(9, failedAfter(0)))).toEqual([
      'restart 1000',
      'restart 2000',
      'restart 4000',
      'restart 8000',
      'restart 16000',
      'restart 32000',
      'restart 60000',
      'restart 60000',
      'restart 60000',
    ])
  })

  it('exponential with 200 ms: 200, 400, 800, 1600 …', () => {
    expect(trace(many({backoff: 'exponential', delayMs: 200}), times(4, failedAfter(0)))).toEqual(['restart 200', 'restart 400', 'restart 800', 'restart 1600'])
  })

  it('counts restarts after clean exits too (restart = always): the backoff n grows while the instance never gets healthy', () => {
    expect(trace(many({backoff: 'exponential', delayMs: 100}), times(4, cleanAfter(0)))).toEqual(['restart 100', 'restart 200', 'restart 400', 'restart 800'])
  })

  it('restart_delay = 0s restarts at once under every curve', () => {
    for (const backoff of ['constant', 'linear', 'exponential'] as const) expect(trace(many({backoff, delayMs: 0}), times(5, failedAfter(0)))).toEqual(times(5, 'restart 0'))
  })

  it('the counters returned: restarts + 1 per restart', () => {
    expect(play(many({}), times(3, failedAfter(0))).map((d) => d.counters)).toEqual([
      {restarts: 1, fastFailures: 1},
      {restarts: 2, fastFailures: 2},
      {restarts: 3, fastFailures: 3},
    ])
  })

  it('an instance that lived healthy_after was healthy: the next delay is d again (n = 0), whatever came before', () => {
    // The supervisor resets n when its healthy timer fires; the exit may be seen first (same instant).
    const p = many({backoff: 'exponential', delayMs: 200, healthyMs: 1000})
    expect(afterExit(p, {restarts: 5, fastFailures: 0}, failedAfter(1000))).toEqual({next: restartIn(200), counters: {restarts: 1, fastFailures: 0}, fatal: false})
    expect(afterExit(p, {restarts: 5, fastFailures: 2}, cleanAfter(1200))).toEqual({next: restartIn(200), counters: {restarts: 1, fastFailures: 0}, fatal: false})
    // Not yet healthy: n carries on.
    expect(afterExit(p, {restarts: 5, fastFailures: 0}, cleanAfter(999))).toEqual({next: restartIn(6400), counters: {restarts: 6, fastFailures: 0}, fatal: false})
  })
})

describe('afterExit: fast failures and FATAL (start_retries)', () => {
  it('fast = exited before healthy_after and not clean', () => {
    const p = policy({healthyMs: 1000, startRetries: 3})
    expect(afterExit(p, HEALTHY, failedAfter(0)).counters.fastFailures).toBe(1)
    expect(afterExit(p, HEALTHY, failedAfter(999)).counters.fastFailures).toBe(1)
    // Lived exactly healthy_after: healthy, not fast.
    expect(afterExit(p, HEALTHY, failedAfter(1000)).counters.fastFailures).toBe(0)
    expect(afterExit(p, HEALTHY, cleanAfter(0)).counters.fastFailures).toBe(0)
  })

  it('start_retries = 3: FATAL on the 4th consecutive fast failure, with fatal = true for that run only', () => {
    const p = policy({delayMs: 200, healthyMs: 1000, startRetries: 3})
    const decisions = play(p, times(4, failedAfter(5)))
    expect(decisions.map((d) => d.next)).toEqual([restartIn(200), restartIn(400), restartIn(800), FATAL])
    expect(decisions.map((d) => d.fatal)).toEqual([false, false, false, true])
    expect(decisions.map((d) => d.counters.fastFailures)).toEqual([1, 2, 3, 4])
  })

  it.each([0, 1, 2, 5, 10])('start_retries = %i: FATAL on fast failure number start_retries + 1', (startRetries) => {
    const p = policy({delayMs: 10, healthyMs: 1000, startRetries})
    const t = trace(p, times(startRetries + 1, failedAfter(0)))
    expect(t.slice(0, -1).every((s) => s.startsWith('restart '))).toBe(true)
    expect(t.at(-1)).toBe('FATAL')
  })

  it('start_retries = 0: the first fast failure is FATAL', () => {
    expect(afterExit(policy({startRetries: 0, healthyMs: 1000}), HEALTHY, failedAfter(0))).toEqual({next: FATAL, counters: {restarts: 0, fastFailures: 1}, fatal: true})
    // A slow failure is not.
    expect(afterExit(policy({startRetries: 0, healthyMs: 1000}), HEALTHY, failedAfter(1000)).next).toEqual(restartIn(1000))
  })

  it('FATAL ends an on_failure restart loop (the run ends start_failed); restart = never has no loop to end', () => {
    expect(trace(policy({restart: 'on_failure', startRetries: 1, healthyMs: 1000}), times(2, failedAfter(0)))).toEqual(['restart 1000', 'FATAL'])
    expect(trace(policy({restart: 'never', startRetries: 1, healthyMs: 1000}), times(2, failedAfter(0)))).toEqual(['none', 'none'])
  })

  it('a clean exit 0 is never a fast failure and resets the streak', () => {
    const p = policy({delayMs: 100, healthyMs: 1000, startRetries: 3})
    // Three fast failures, a quick clean exit, then three more: never FATAL.
    const exits = [...times(3, failedAfter(0)), cleanAfter(0), ...times(3, failedAfter(0))]
    const decisions = play(p, exits)
    expect(decisions.map((d) => d.counters.fastFailures)).toEqual([1, 2, 3, 0, 1, 2, 3])
    expect(decisions.some((d) => d.fatal)).toBe(false)
    // …and the 4th fast failure after the clean exit is the FATAL one.
    expect(play(p, [...exits, failedAfter(0)]).at(-1)!.next).toEqual(FATAL)
  })

  it('quick clean exits forever never go FATAL (restart = always)', () => {
    const decisions = play(policy({delayMs: 10, healthyMs: 1000, startRetries: 0}), times(50, cleanAfter(0)))
    expect(decisions.every((d) => d.next.action === 'restart' && !d.fatal)).toBe(true)
  })

  it('a slow failure (lived ≥ healthy_after) resets the streak', () => {
    const p = policy({delayMs: 100, healthyMs: 1000, startRetries: 2})
    const decisions = play(p, [failedAfter(0), failedAfter(0), failedAfter(1500), failedAfter(0), failedAfter(0), failedAfter(0)])
    expect(decisions.map((d) => d.counters.fastFailures)).toEqual([1, 2, 0, 1, 2, 3])
    expect(decisions.map((d) => d.next.action)).toEqual(['restart', 'restart', 'restart', 'restart', 'restart', 'fatal'])
  })

  it('failures that live ≥ healthy_after never go FATAL, however many', () => {
    const decisions = play(policy({delayMs: 200, healthyMs: 1000, startRetries: 0}), times(100, failedAfter(1200)))
    expect(decisions.some((d) => d.fatal || d.next.action === 'fatal')).toBe(false)
    expect(decisions.every((d) => d.counters.fastFailures === 0)).toBe(true)
  })

  it('healthy_after = 0: healthy at once, so no exit is fast and nothing goes FATAL', () => {
    const p = policy({delayMs: 200, healthyMs: 0, startRetries: 0})
    const decisions = play(p, times(20, failedAfter(0)))
    expect(decisions.some((d) => d.fatal || d.next.action === 'fatal')).toBe(false)
    expect(decisions.every((d) => d.counters.fastFailures === 0)).toBe(true)
    // Healthy at once: every restart is the first one after being healthy (n = 0).
    expect(decisions.every((d) => d.next.action === 'restart' && d.next.delayMs === 200)).toBe(true)
  })
})

describe('afterExit: stopped by sched', () => {
  it('never restarts, never counts, never FATAL — counters come back unchanged', () => {
    const counters = {restarts: 3, fastFailures: 3}
    for (const restart of ['always', 'on_failure', 'never'] as const) {
      const p = policy({restart, startRetries: 3, healthyMs: 1000})
      for (const exit of [stoppedAfter(0), stoppedAfter(5000), {...stoppedAfter(0), clean: true}]) {
        expect(afterExit(p, counters, exit)).toEqual({next: NONE, counters, fatal: false})
      }
    }
  })

  it('a stop in the middle of a streak neither extends nor resets it', () => {
    const p = policy({delayMs: 100, healthyMs: 1000, startRetries: 3})
    const decisions = play(p, [failedAfter(0), failedAfter(0), stoppedAfter(0), failedAfter(0), failedAfter(0)])
    expect(decisions.map((d) => d.counters.fastFailures)).toEqual([1, 2, 2, 3, 4])
    expect(decisions.at(-1)!.next).toEqual(FATAL)
  })
})
