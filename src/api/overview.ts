import {ulidTime} from '../core/ulid.js'
import type {RunEntry} from '../state/runs.js'

/** One run in an overview strip: what its file name says, nothing read from disk. */
export interface StripRun {
  readonly id: string
  /** The end reason, or `active` while pending or running. */
  readonly state: RunEntry['state']
  readonly triggered_by: RunEntry['triggered_by']
  readonly created_at: string
}

/**
 * The newest `perUnit` runs of each unit in `units`, from entries given newest first. The walk
 * stops once every unit has its share, so a busy history costs no more than the strips shown.
 */
export function recentRuns(newestFirst: Iterable<RunEntry>, units: readonly string[], perUnit: number): Map<string, StripRun[]> {
  const out = new Map<string, StripRun[]>(units.map((u) => [u, []]))
  let open = units.length
  if (perUnit === 0 || open === 0) return out
  for (const e of newestFirst) {
    const strip = out.get(e.unit)
    if (!strip || strip.length >= perUnit) continue
    strip.push({id: e.id, state: e.state, triggered_by: e.triggered_by, created_at: new Date(ulidTime(e.id)).toISOString()})
    if (strip.length === perUnit && --open === 0) break
  }
  return out
}
