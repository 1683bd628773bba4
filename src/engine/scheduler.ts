import type {Schedule, Tick} from '../cron/schedule.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import type {Unit} from '../core/types.js'
import {planCatchUp} from './catch-up.js'

/** Never sleep longer than this: suspend, clock jumps and DST must not make a tick vanish. */
export const MAX_WAIT_MS = 30_000
/** Ticks walked at once after a suspend or a forward clock jump before skipping to now. */
const MAX_DUE_TICKS = 10_000
/** Ticks this late, or less, each fire on their own (see wake). */
const FIRE_EACH_WITHIN_MS = 10_000

export interface ScheduledUnit {
  readonly unit: Unit
  readonly schedule: Schedule
  /** Ticks at or before this instant are not fired (already handled, or caught up at boot). */
  readonly after: number
}

export interface DueTick {
  readonly unit: Unit
  readonly tick: Tick
  /** Earlier fire ticks of the same unit that came due in the same wake and were folded into this one. */
  readonly coalesced: number
}

interface Entry {
  readonly unit: Unit
  readonly schedule: Schedule
  next: Tick | undefined
}

/**
 * Fires cron ticks on an injected clock. One timer for all units, armed for the earliest tick
 * but never for more than 30 s; every wake re-reads the clock. If several ticks of a unit came
 * due at once (the machine slept, the clock jumped), the latest fires and the others are
 * counted, not run back to back.
 */
export class Scheduler {
  private entries = new Map<string, Entry>()
  private timer?: TimerHandle
  private running = false

  constructor(
    private readonly clock: Clock,
    private readonly onTick: (due: DueTick) => void,
  ) {}

  start(units: readonly ScheduledUnit[]): void {
    this.running = true
    this.set(units)
  }

  /** Replaces the schedules (reload): units not listed stop being scheduled. */
  set(units: readonly ScheduledUnit[]): void {
    this.entries = new Map(units.map((s) => [s.unit.name, {unit: s.unit, schedule: s.schedule, next: s.schedule.nextTick(s.after)}]))
    this.arm()
  }

  stop(): void {
    this.running = false
    this.timer?.cancel()
    this.timer = undefined
  }

  /** The next tick of a unit that will fire (dst_skipped ticks are not runs). */
  nextFire(name: string): number | undefined {
    const entry = this.entries.get(name)
    let tick = entry?.next
    while (tick && tick.kind !== 'fire') tick = entry!.schedule.nextTick(tick.at)
    return tick?.at
  }

  private arm(): void {
    this.timer?.cancel()
    this.timer = undefined
    if (!this.running) return
    let earliest = Infinity
    for (const e of this.entries.values()) if (e.next && e.next.at < earliest) earliest = e.next.at
    if (earliest === Infinity) return
    const wait = Math.min(Math.max(0, earliest - this.clock.now()), MAX_WAIT_MS)
    this.timer = this.clock.setTimer(wait, () => this.wake())
  }

  private wake(): void {
    this.timer = undefined
    const now = this.clock.now()
    const due: DueTick[] = []
    for (const e of this.entries.values()) {
      let lastFire: Tick | undefined
      let fires = 0
      let walked = 0
      // A daemon a few seconds behind (a burst of work) owes every tick its own run; a longer
      // gap (suspend, a clock jump) folds them into the latest.
      const each = e.next !== undefined && now - e.next.at <= FIRE_EACH_WITHIN_MS
      while (e.next && e.next.at <= now) {
        if (e.next.kind === 'fire' && each) {
          due.push({unit: e.unit, tick: e.next, coalesced: 0})
        } else if (e.next.kind === 'fire') {
          fires++
          lastFire = e.next
        } else {
          due.push({unit: e.unit, tick: e.next, coalesced: 0})
        }
        if (++walked >= MAX_DUE_TICKS) {
          // Too many to walk here: count the rest as catch-up does (a lower bound past its
          // limit) and fire the latest, not a tick from hours or years before now.
          const rest = planCatchUp(e.schedule, e.next.at, now + 1, 'latest', 1)
          fires += rest.missed
          if (rest.latestMissed !== undefined) lastFire = e.schedule.nextTick(rest.latestMissed - 1)
          e.next = e.schedule.nextTick(now)
          break
        }
        e.next = e.schedule.nextTick(e.next.at)
      }
      if (lastFire) due.push({unit: e.unit, tick: lastFire, coalesced: fires - 1})
    }
    due.sort((a, b) => a.tick.at - b.tick.at)
    for (const d of due) this.onTick(d)
    this.arm()
  }
}
