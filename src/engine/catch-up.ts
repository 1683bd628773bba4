import type {Schedule} from '../cron/schedule.js'
import type {CatchUp} from '../core/types.js'

/** Ticks to enumerate at most; beyond it the count is reported as a lower bound. */
export const MAX_COUNTED_TICKS = 100_000

export interface CatchUpPlan {
  /** Fire ticks after the anchor and before now. */
  readonly missed: number
  /** True when there were more than MAX_COUNTED_TICKS: `missed` is then a lower bound. */
  readonly atLeast: boolean
  readonly latestMissed?: number
  /** scheduled_at of each catch-up run to start, oldest first. */
  readonly runs: readonly number[]
}

/**
 * What to do at boot about ticks missed while the daemon was down (SPEC §4.3): a pure function
 * of the schedule, the anchor (last tick handled, or when the task was first seen), now, and the
 * policy. `all` keeps the newest `cap` ticks.
 */
export function planCatchUp(schedule: Schedule, anchor: number, now: number, policy: CatchUp, cap: number): CatchUpPlan {
  const keep = policy === 'all' ? cap : 1
  const newest: number[] = []
  let missed = 0
  let atLeast = false
  for (let tick = schedule.nextTick(anchor); tick && tick.at < now; tick = schedule.nextTick(tick.at)) {
    if (tick.kind !== 'fire') continue
    if (++missed > MAX_COUNTED_TICKS) {
      atLeast = true
      break
    }
    newest.push(tick.at)
    if (newest.length > keep) newest.shift()
  }
  const kept = atLeast ? newestBefore(schedule, anchor, now, keep) : newest
  const latestMissed = kept.at(-1)
  const runs = missed === 0 || policy === 'skip' ? [] : kept
  return {missed: atLeast ? MAX_COUNTED_TICKS : missed, atLeast, latestMissed, runs}
}

/** A day holds at most 90 000 ticks (one a second, plus a repeated hour): one walk can count them all. */
const MAX_WINDOW_MS = 86_400_000

/**
 * The newest `keep` fire ticks in (anchor, now), found without walking from the anchor: windows
 * walked back from now, growing up to a day. A schedule can go quiet for months (`* * * 1 *`
 * in June), so a fixed stretch before now may hold fewer ticks than wanted, or none.
 */
function newestBefore(schedule: Schedule, anchor: number, now: number, keep: number): number[] {
  let newest: number[] = []
  for (let to = now, span = 60_000; newest.length < keep; span = Math.min(2 * span, MAX_WINDOW_MS)) {
    const from = Math.max(anchor, to - span)
    newest = walk(schedule, from, to, keep - newest.length).newest.concat(newest)
    if (from === anchor) break
    // walk() covers (from, to): the next window must include a tick exactly at `from`.
    to = from + 1
  }
  return newest
}

function walk(schedule: Schedule, from: number, to: number, keep: number): {count: number; newest: number[]} {
  const newest: number[] = []
  let count = 0
  for (let tick = schedule.nextTick(from); tick && tick.at < to && count <= MAX_COUNTED_TICKS; tick = schedule.nextTick(tick.at)) {
    if (tick.kind !== 'fire') continue
    count++
    newest.push(tick.at)
    if (newest.length > keep) newest.shift()
  }
  return {count, newest}
}

export function missedMessage(plan: CatchUpPlan): string {
  const n = `${plan.atLeast ? 'more than ' : ''}${plan.missed} tick${plan.missed === 1 ? '' : 's'}`
  return `${n} missed while the daemon was down`
}
