import type {ScheduleSpec} from '../cron/expression.js'
import {type Schedule, scheduleFor} from '../cron/schedule.js'
import type {Unit} from '../core/types.js'

/**
 * `next_run_at` for every cron task. The answer for a unit stays the same from the instant it
 * was computed until its tick passes, so it is cached for that window: listing a thousand
 * tasks costs a thousand map reads, not a thousand cron searches.
 */
export class NextRuns {
  /** Units sharing an expression and a zone share one schedule and one cached answer. */
  private readonly keys = new Map<string, string>()
  private readonly schedules = new Map<string, Schedule>()
  private readonly cache = new Map<string, {from: number; at: number | undefined}>()

  /** `everyAnchor`: when `@every` schedules started counting (the daemon's start). */
  constructor(units: readonly Unit[], specs: ReadonlyMap<string, ScheduleSpec>, everyAnchor: number | undefined) {
    for (const unit of units) {
      const spec = specs.get(unit.name)
      if (!spec || (spec.type === 'every' && everyAnchor === undefined)) continue
      const key = `${spec.source}\u0000${spec.type === 'cron' ? unit.timezone : ''}`
      this.keys.set(unit.name, key)
      if (!this.schedules.has(key)) this.schedules.set(key, scheduleFor(spec, unit.timezone, everyAnchor ?? 0))
    }
  }

  /** The first tick strictly after `now` that will run (dst_skipped ticks are not runs). */
  nextRunAt(name: string, now: number): number | undefined {
    const key = this.keys.get(name)
    if (key === undefined) return undefined
    const cached = this.cache.get(key)
    if (cached && cached.from <= now && (cached.at === undefined || now < cached.at)) return cached.at
    const schedule = this.schedules.get(key)!
    let tick = schedule.nextTick(now)
    while (tick && tick.kind !== 'fire') tick = schedule.nextTick(tick.at)
    this.cache.set(key, {from: now, at: tick?.at})
    return tick?.at
  }
}
