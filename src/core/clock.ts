/**
 * Time as a dependency. Scheduling code takes a Clock, never Date.now() or setTimeout, so tests
 * drive it with a fake one (test/support/fake-clock.ts).
 */
export interface TimerHandle {
  cancel(): void
}

export interface Clock {
  /** Epoch milliseconds of the wall clock. */
  now(): number
  /** Calls `fn` after `ms` (not more than the platform's timer limit; callers chunk long waits). */
  setTimer(ms: number, fn: () => void): TimerHandle
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms))
    return {cancel: () => clearTimeout(t)}
  },
}
