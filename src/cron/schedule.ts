import {nextCivil} from './match.js'
import {type CronSpec, type ScheduleSpec} from './expression.js'
import {civilToInstant, offsetMs, toCivil} from './zone.js'

/**
 * A tick of a schedule. `dst_skipped` is the repeated wall-clock time on a fall-back day:
 * recorded, never executed. `shifted` marks a tick moved forward out of a spring-forward gap.
 */
export interface Tick {
  readonly at: number
  readonly kind: 'fire' | 'dst_skipped'
  /** The wall-clock time the expression matched, as civil ms (see match.ts). */
  readonly wall: number
  readonly shiftedMs?: number
}

export interface Schedule {
  readonly spec: ScheduleSpec
  /** The zone ticks are computed in; undefined for `@every`, which ignores wall clocks. */
  readonly zone?: string
  /** The first tick strictly after `after` (epoch ms), or undefined if there is none. */
  nextTick(after: number): Tick | undefined
}

/** Longest DST shift any zone has used (double summer time was 2h). */
const MAX_SHIFT_MS = 3 * 3_600_000

export class CronSchedule implements Schedule {
  constructor(
    readonly spec: CronSpec,
    readonly zone: string,
  ) {}

  nextTick(after: number): Tick | undefined {
    const civilAfter = toCivil(after, this.zone)
    // Near a transition an earlier wall time can still have an occurrence after `after`
    // (its second pass through a fold), so start the wall-clock search a little back.
    const nearTransition = offsetMs(after - MAX_SHIFT_MS, this.zone) !== offsetMs(after + MAX_SHIFT_MS, this.zone)
    let wall: number | undefined = nearTransition ? civilAfter - MAX_SHIFT_MS : civilAfter
    let best: Tick | undefined
    let bestCivil = Infinity
    while ((wall = nextCivil(this.spec, wall)) !== undefined) {
      if (wall >= bestCivil + MAX_SHIFT_MS) break
      for (const tick of this.ticksAt(wall)) {
        if (tick.at > after && (!best || tick.at < best.at)) {
          best = tick
          bestCivil = toCivil(tick.at, this.zone)
        }
      }
      if (!nearTransition && best) break
    }
    return best
  }

  private ticksAt(wall: number): Tick[] {
    const m = civilToInstant(wall, this.zone)
    switch (m.type) {
      case 'unique':
        return [{at: m.instant, kind: 'fire', wall}]
      case 'gap':
        return [{at: m.shifted, kind: 'fire', wall, shiftedMs: m.gapMs}]
      case 'fold':
        // A fixed-hour job (02:00 daily) must not run twice on a fall-back day. A job whose
        // hour is `*` runs on real time, as Vixie cron does, so "every 5 minutes" keeps its
        // rhythm through the repeated hour.
        return [
          {at: m.first, kind: 'fire', wall},
          {at: m.second, kind: this.spec.hourWildcard ? 'fire' : 'dst_skipped', wall},
        ]
    }
  }
}

/** `@every d`: ticks at anchor + k·d, k ≥ 1, in real time. */
export class EverySchedule implements Schedule {
  readonly zone = undefined

  constructor(
    readonly spec: ScheduleSpec & {type: 'every'},
    readonly anchor: number,
  ) {}

  nextTick(after: number): Tick {
    const d = this.spec.intervalMs
    const k = after < this.anchor ? 1 : Math.floor((after - this.anchor) / d) + 1
    const at = this.anchor + k * d
    return {at, kind: 'fire', wall: at}
  }
}

export function scheduleFor(spec: ScheduleSpec, zone: string, everyAnchor: number): Schedule {
  return spec.type === 'cron' ? new CronSchedule(spec, zone) : new EverySchedule(spec, everyAnchor)
}

