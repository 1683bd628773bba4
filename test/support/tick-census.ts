import type {RunRecord} from '../../src/state/run-record.js'
import {percentile} from './percentile.js'

/** What the records of per-second cron tasks say about the ticks of a time window. */
export interface TickCensus {
  /** Ticks the window holds: tasks × seconds. */
  readonly expected: number
  /** (task, second) pairs of the window with no record at all. */
  readonly lost: readonly string[]
  /** (task, second) pairs with more than one record. */
  readonly twice: readonly string[]
  /** Records of the window by end reason (`running` for one not ended). */
  readonly outcomes: Readonly<Record<string, number>>
  /** Milliseconds from a tick to its run record's creation: when the daemon acted on it. */
  readonly decided: Percentiles
  /** Milliseconds from a tick to its process start, for ticks that started one. */
  readonly started: Percentiles
}

export interface Percentiles {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly n: number
}

/**
 * Counts the records of per-second cron tasks against every whole second in [from, to): each tick
 * must have exactly one record — started, or ended without starting (skipped, dst_skipped…).
 */
export function tickCensus(records: readonly RunRecord[], tasks: readonly string[], from: number, to: number): TickCensus {
  const first = Math.ceil(from / 1000) * 1000
  const seen = new Map<string, number>()
  const outcomes: Record<string, number> = {}
  const decided: number[] = []
  const started: number[] = []
  for (const r of records) {
    if (r.triggered_by !== 'cron' || r.scheduled_at === null) continue
    const at = Date.parse(r.scheduled_at)
    if (at < first || at >= to) continue
    const key = `${r.task_name}@${r.scheduled_at}`
    seen.set(key, (seen.get(key) ?? 0) + 1)
    const outcome = r.end_reason ?? r.status
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    decided.push(Date.parse(r.created_at) - at)
    if (r.started_at !== null && r.pid !== null) started.push(Date.parse(r.started_at) - at)
  }
  const lost: string[] = []
  let expected = 0
  for (const task of tasks) {
    for (let at = first; at < to; at += 1000) {
      expected++
      if (!seen.has(`${task}@${new Date(at).toISOString()}`)) lost.push(`${task}@${new Date(at).toISOString()}`)
    }
  }
  const twice = [...seen].filter(([, n]) => n > 1).map(([key]) => key)
  return {expected, lost, twice, outcomes, decided: percentiles(decided), started: percentiles(started)}
}

function percentiles(values: number[]): Percentiles {
  return {p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100), n: values.length}
}
