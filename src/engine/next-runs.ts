import {type ScheduleSpec, parseSchedule} from '../cron/expression.js'
import {type Schedule, scheduleFor} from '../cron/schedule.js'

/** A unit's schedule as next_run_at needs it: parsed, or only its text (parsed when first asked). */
export interface ScheduledName {
  readonly name: string
  readonly timezone: string
  readonly schedule: ScheduleSpec | ScheduleText
}

export interface ScheduleText {
  readonly type: ScheduleSpec['type']
  readonly source: string
}

/** An answer and the instant it was computed: it holds until its tick passes. */
export interface KnownNextRun {
  readonly from: number
  readonly at: number | undefined
}

/**
 * `next_run_at` for every cron task. The answer for a unit stays the same from the instant it
 * was computed until its tick passes, so it is cached for that window: listing a thousand
 * tasks costs a thousand map reads, not a thousand cron searches. Answers known from elsewhere
 * (the daemon's compiled config) seed the cache, so `sched list` parses only expressions whose
 * tick has passed since.
 */
export class NextRuns {
  /** Units sharing an expression and a zone share one schedule and one cached answer. */
  private readonly keys = new Map<string, string>()
  private readonly specs = new Map<string, {text: ScheduleSpec | ScheduleText; zone: string}>()
  private readonly schedules = new Map<string, Schedule>()
  private readonly cache = new Map<string, KnownNextRun>()

  /** `everyAnchor`: when `@every` schedules started counting (the daemon's start). */
  constructor(
    units: Iterable<ScheduledName>,
    private readonly everyAnchor: number | undefined,
  ) {
    for (const {name, timezone, schedule} of units) {
      if (schedule.type === 'every' && everyAnchor === undefined) continue
      const key = `${schedule.source}\u0000${schedule.type === 'cron' ? timezone : ''}`
      this.keys.set(name, key)
      if (!this.specs.has(key)) this.specs.set(key, {text: schedule, zone: timezone})
    }
  }

  /** The first tick strictly after `now` that will run (dst_skipped ticks are not runs). */
  nextRunAt(name: string, now: number): number | undefined {
    const key = this.keys.get(name)
    if (key === undefined) return undefined
    const cached = this.cache.get(key)
    if (cached && cached.from <= now && (cached.at === undefined || now < cached.at)) return cached.at
    const schedule = this.schedule(key)
    let tick = schedule.nextTick(now)
    while (tick && tick.kind !== 'fire') tick = schedule.nextTick(tick.at)
    this.cache.set(key, {from: now, at: tick?.at})
    return tick?.at
  }

  /** The answer for `name` at `now`, with the instant from which it holds. */
  known(name: string, now: number): KnownNextRun | undefined {
    const key = this.keys.get(name)
    if (key === undefined) return undefined
    // Answering fills the cache for the key: what it holds is the answer and its start.
    this.nextRunAt(name, now)
    return this.cache.get(key)
  }

  /** Takes an answer computed elsewhere for the same schedule, zone and anchor. */
  seed(name: string, known: KnownNextRun): void {
    const key = this.keys.get(name)
    if (key !== undefined && !this.cache.has(key)) this.cache.set(key, known)
  }

  private schedule(key: string): Schedule {
    let schedule = this.schedules.get(key)
    if (!schedule) {
      const {text, zone} = this.specs.get(key)!
      const spec = 'intervalMs' in text || 'minute' in text ? text : parseSchedule(text.source)
      schedule = scheduleFor(spec, zone, this.everyAnchor ?? 0)
      this.schedules.set(key, schedule)
    }
    return schedule
  }
}

/** The units of a config with a schedule, as NextRuns takes them. */
export function scheduledNames(units: readonly {name: string; timezone: string}[], specs: ReadonlyMap<string, ScheduleSpec>): ScheduledName[] {
  const out: ScheduledName[] = []
  for (const u of units) {
    const schedule = specs.get(u.name)
    if (schedule) out.push({name: u.name, timezone: u.timezone, schedule})
  }
  return out
}
