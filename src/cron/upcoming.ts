import {formatDuration, msToNs} from '../core/duration.js'
import type {UpcomingTick} from '../core/types.js'
import type {ScheduleSpec} from './expression.js'
import {scheduleFor} from './schedule.js'
import {formatCivil} from './zone.js'

export const EVERY_FROM_DAEMON = "counted from the daemon's start"

export interface UpcomingOptions {
  readonly zone: string
  readonly now: number
  readonly count: number
  /** Where `@every` counts from (the daemon's start, else now), and how to say so. */
  readonly every: {readonly anchor: number; readonly note: string}
}

/**
 * The next `count` ticks after `now`, with the notes a reader needs: a tick moved out of a DST
 * gap, a repeated wall-clock time recorded `dst_skipped` instead of run, where `@every` counts from.
 */
export function upcomingTicks(spec: ScheduleSpec, o: UpcomingOptions): UpcomingTick[] {
  const schedule = scheduleFor(spec, o.zone, spec.type === 'every' ? o.every.anchor : o.now)
  const ticks: UpcomingTick[] = []
  for (let tick = schedule.nextTick(o.now); tick && ticks.length < o.count; tick = schedule.nextTick(tick.at)) {
    const zone = schedule.zone ?? null
    let note: string | null = null
    if (tick.kind === 'dst_skipped') note = 'repeated wall-clock time (DST fall-back): recorded dst_skipped, not run'
    else if (tick.shiftedMs) note = `in a DST gap: runs ${formatDuration(msToNs(tick.shiftedMs))} later`
    else if (spec.type === 'every') note = o.every.note
    ticks.push({at: new Date(tick.at).toISOString(), local: zone ? formatCivil(tick.at, zone) : new Date(tick.at).toISOString(), zone, kind: tick.kind, note})
  }
  return ticks
}
