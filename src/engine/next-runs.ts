import type {ScheduleSpec} from '../cron/expression.js'
import {type Schedule, scheduleFor} from '../cron/schedule.js'
import type {Unit} from '../core/types.js'

/**
 * `next_run_at` for every cron task. The answer for a unit stays the same from the instant it
 * was computed until its tick passes, so it is cached for that window: listing a thousand
 * tasks costs a thousand map reads, not a thousand cron searches.
 */
export class NextRuns {
  private readonly schedules = new Map<string, Schedule>()
  private readonly cache = new Map<string, {from: number; at: number | undefined}>()

  /** `everyAnchor`: when `@every` schedules started counting (the daemon's start). */
  constructor(units: readonly Unit[], specs: ReadonlyMap<string, ScheduleSpec>, everyAnchor: number | undefined) {
    for (const unit of units) {
      const spec = specs.get(unit.name)
      if (!spec || (spec.type === 'every' && everyAnchor === undefined)) continue
      this.schedules.set(unit.name, scheduleFor(spec, unit.timezone, everyAnchor ?? 0))
    }
  }

  schedule(name: string): Schedule | undefined {
    return this.schedules.get(name)
  }

  /** The first tick strictly after `now` that will run (dst_skipped ticks are not runs). */
  nextRunAt(name: string, now: number): number | undefined {
    const schedule = this.schedules.get(name)
    if (!schedule) return undefined
    const cached = this.cache.get(name)
    if (cached && cached.from <= now && (cached.at === undefined || now < cached.at)) return cached.at
    let tick = schedule.nextTick(now)
    while (tick && tick.kind !== 'fire') tick = schedule.nextTick(tick.at)
    this.cache.set(name, {from: now, at: tick?.at})
    return tick?.at
  }
}
