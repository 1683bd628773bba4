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

/** Node fires a longer timeout at once (with a warning), so longer waits are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    let t: NodeJS.Timeout
    const arm = (left: number) => {
      t = setTimeout(() => (left > MAX_TIMEOUT_MS ? arm(left - MAX_TIMEOUT_MS) : fn()), Math.min(Math.max(0, left), MAX_TIMEOUT_MS))
    }
    arm(ms)
    return {cancel: () => clearTimeout(t)}
  },
}
