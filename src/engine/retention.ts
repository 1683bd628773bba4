import {stat} from 'node:fs/promises'
import {olderSegmentPath} from '../logs/format.js'
import {NS} from '../core/duration.js'
import type {Unit} from '../core/types.js'
import {ulidTime} from '../core/ulid.js'
import type {RunEntry, RunStore} from '../state/runs.js'

export interface RetentionPolicy {
  readonly units: ReadonlyMap<string, Pick<Unit, 'keep_runs' | 'keep_for'>>
  /** Total bytes of run records and logs to keep; 0 = no cap. */
  readonly maxStorage: number
}

/**
 * Which finished runs to delete (SPEC §7): beyond a unit's keep_runs newest, older than its
 * keep_for (counted from when the run was created, which its id encodes), then the oldest
 * anywhere while the total exceeds max_storage. Pending and running runs are never chosen.
 * `sizes` is needed only for max_storage.
 */
export function planRetention(entries: readonly RunEntry[], policy: RetentionPolicy, now: number, sizes?: ReadonlyMap<string, number>): RunEntry[] {
  const doomed = new Set<RunEntry>()
  const byUnit = new Map<string, RunEntry[]>()
  for (const e of entries) {
    if (e.state === 'active') continue
    let list = byUnit.get(e.unit)
    if (!list) byUnit.set(e.unit, (list = []))
    list.push(e)
  }
  for (const [unit, list] of byUnit) {
    const rules = policy.units.get(unit)
    if (!rules) continue
    list.sort((a, b) => (a.id < b.id ? 1 : -1))
    if (rules.keep_runs > 0) for (const e of list.slice(rules.keep_runs)) doomed.add(e)
    if (rules.keep_for > 0) {
      const cutoff = now - rules.keep_for / NS.ms
      for (const e of list) if (ulidTime(e.id) < cutoff) doomed.add(e)
    }
  }
  if (policy.maxStorage > 0 && sizes) {
    let total = 0
    for (const e of entries) total += sizes.get(e.id) ?? 0
    for (const e of doomed) total -= sizes.get(e.id) ?? 0
    const oldestFirst = entries.filter((e) => e.state !== 'active' && !doomed.has(e)).sort((a, b) => (a.id < b.id ? -1 : 1))
    for (const e of oldestFirst) {
      if (total <= policy.maxStorage) break
      doomed.add(e)
      total -= sizes.get(e.id) ?? 0
    }
  }
  return [...doomed]
}

/** Bytes a run takes on disk: its record and its log segments. */
export async function runSizes(store: RunStore, entries: readonly RunEntry[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  const size = (path: string) => stat(path).then((s) => s.size, () => 0)
  const batch = 256
  for (let i = 0; i < entries.length; i += batch) {
    await Promise.all(
      entries.slice(i, i + batch).map(async (e) => {
        const log = store.layout.logFile(e.unit, e.id)
        const [record, current, older] = await Promise.all([size(store.path(e)), size(log), size(olderSegmentPath(log))])
        sizes.set(e.id, record + current + older)
      }),
    )
  }
  return sizes
}

export async function applyRetention(store: RunStore, doomed: readonly RunEntry[]): Promise<void> {
  const batch = 64
  for (let i = 0; i < doomed.length; i += batch) await Promise.all(doomed.slice(i, i + batch).map((e) => store.remove(e)))
}
