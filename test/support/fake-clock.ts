import type {Clock, TimerHandle} from '../../src/core/clock.js'

/** Node clamps larger delays to 1 ms (with a warning): code under test must chunk long waits. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** A callback chain that keeps arming due timers is a bug in the code under test, not a hang. */
const MAX_RUNS_PER_ADVANCE = 1_000_000

interface Timer {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
}

/**
 * A Clock for tests. Time moves only when the test says so. Timers are due at wall-clock
 * instants (now + ms when armed) and run in due order, ties in arming order, with now() reading
 * their due instant — or the current time, if the clock was set past it.
 */
export class FakeClock implements Clock {
  private current: number
  private timers: Timer[] = []
  private seq = 0
  /** Every delay passed to setTimer, in order. */
  readonly delays: number[] = []

  constructor(start: number) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) throw new RangeError(`setTimer(${ms}): not a valid Node timer delay`)
    this.delays.push(ms)
    const timer: Timer = {at: this.current + Math.max(0, ms), seq: this.seq++, fn}
    const i = this.timers.findIndex((t) => t.at > timer.at)
    this.timers.splice(i === -1 ? this.timers.length : i, 0, timer)
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer)
      },
    }
  }

  /** Moves time forward by `ms`, running every timer that comes due, including ones armed on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): time only moves forward`)
    this.advanceTo(this.current + ms)
  }

  advanceTo(instant: number): void {
    if (!(instant >= this.current)) throw new RangeError(`advanceTo(${instant}) is before now (${this.current})`)
    let runs = 0
    for (let next = this.timers[0]; next && next.at <= instant; next = this.timers[0]) {
      if (++runs > MAX_RUNS_PER_ADVANCE) throw new Error('timers keep coming due: runaway timer loop')
      this.timers.shift()
      this.current = Math.max(this.current, next.at)
      next.fn()
    }
    this.current = instant
  }

  /** Jumps the wall clock (either way) without running timers: a suspend or a clock change. */
  set(instant: number): void {
    this.current = instant
  }

  /** Runs the timers already due (after `set` moved the clock past them). */
  runDue(): void {
    this.advanceTo(this.current)
  }

  /** When the earliest armed timer is due, if any (for tests that step through async code). */
  nextDue(): number | undefined {
    return this.timers[0]?.at
  }

  /** Armed timers. */
  pending(): number {
    return this.timers.length
  }
}
