import type {Clock, TimerHandle} from '../core/clock.js'

/**
 * The daemon-wide gate for jittered cron runs (SPEC §4.4): one passes at a time. A run goes
 * through at once when the gate is free; under contention runs wait, earliest deadline first,
 * and one whose deadline (tick + jitter) arrives starts anyway. No randomness.
 */
export interface GatePass {
  /** True when the run holds the gate and must release it when it ends. */
  readonly holds: boolean
}

interface Waiter {
  readonly deadline: number
  readonly seq: number
  readonly start: (pass: GatePass) => void
  timer?: TimerHandle
}

export class JitterGate {
  private busy = false
  private waiters: Waiter[] = []
  private seq = 0

  constructor(private readonly clock: Clock) {}

  /** Calls `start` when the run may begin; `release()` must follow once a holder's run ends. */
  enter(deadline: number, start: (pass: GatePass) => void): void {
    if (!this.busy) {
      this.busy = true
      start({holds: true})
      return
    }
    const waiter: Waiter = {deadline, seq: this.seq++, start}
    waiter.timer = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), () => {
      this.remove(waiter)
      waiter.start({holds: false})
    })
    this.waiters.push(waiter)
    this.waiters.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq)
  }

  release(): void {
    const next = this.waiters.shift()
    if (!next) {
      this.busy = false
      return
    }
    next.timer?.cancel()
    next.start({holds: true})
  }

  get waiting(): number {
    return this.waiters.length
  }

  /** Drops every waiting run without starting it (shutdown). */
  clear(): void {
    for (const w of this.waiters) w.timer?.cancel()
    this.waiters = []
  }

  private remove(waiter: Waiter): void {
    this.waiters = this.waiters.filter((w) => w !== waiter)
  }
}
