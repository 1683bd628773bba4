import {nextCivil} from './match.js'
import {type CronSpec, type ScheduleSpec} from './expression.js'
import {civilToInstant, toCivil, transitionBetween} from './zone.js'

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
    let best: Tick | undefined
    const consider = (wall: number | undefined) => {
      if (wall === undefined) return
      for (const tick of this.ticksAt(wall)) if (tick.at > after && (!best || tick.at < best.at)) best = tick
    }
    // The first wall time after the clock's reading covers every case but two, each settled
    // by one more wall-clock search instead of a scan through hours of matches.
    const first = nextCivil(this.spec, toCivil(after, this.zone))
    consider(first)
    // 1. A transition just behind or ahead: a wall time not after the reading can still occur
    //    after `after` — its second pass through a fold, or its shifted time out of a gap. The
    //    earliest such is the first match from where the repeated or skipped wall times begin.
    //    Both read such a wall time W with the smaller offset, so W occurs after `after`
    //    exactly when W > after + that offset.
    const near = transitionBetween(after - MAX_SHIFT_MS, after + MAX_SHIFT_MS, this.zone)
    if (near) {
      const offset = Math.min(near.before, near.after)
      consider(nextCivil(this.spec, Math.max(near.at + offset - 1000, after + offset)))
    }
    // 2. A match inside a gap fires shifted forward, possibly after the first match past the
    //    gap, which then comes first.
    if (best?.shiftedMs !== undefined) {
      const gap = transitionBetween(best.at - MAX_SHIFT_MS, best.at, this.zone)
      if (gap) consider(nextCivil(this.spec, gap.at + gap.after - 1000))
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

