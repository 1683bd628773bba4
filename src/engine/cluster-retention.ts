import {readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import type {RunRetention} from '../cluster/run-retention.js'
import {NS} from '../core/duration.js'
import type {Unit} from '../core/types.js'
import type {StateLayout} from '../state/layout.js'
import type {ClusterPort} from './cluster-port.js'

/** Log files are looked up in the cluster this many ids at a time. */
const BATCH = 1000

/** Each unit's keep_runs / keep_for as the cluster applies them (`max_storage` is per state directory). */
export function retentionRules(units: ReadonlyMap<string, Pick<Unit, 'name' | 'keep_runs' | 'keep_for'>>, now: number): RunRetention[] {
  return [...units.values()].map((u) => ({name: u.name, keepRuns: u.keep_runs, cutoff: u.keep_for > 0 ? now - u.keep_for / NS.ms : undefined}))
}

/**
 * Cluster retention, one sweep: the run records past their unit's rules are deleted cluster-wide
 * (by whichever node gets there first), then this node deletes the logs in its own state
 * directory whose run has no record left in the cluster — whoever deleted the record. A log
 * exists only once its run's record does (admission stores the run before it is started), so a
 * log without a record is one retention took. Logs of runs recorded in the state directory (a
 * file-mode life before the node joined) are left to the file-mode sweep.
 */
export async function sweepCluster(
  cluster: Pick<ClusterPort, 'pruneRuns' | 'knownRuns'>,
  layout: StateLayout,
  rules: readonly RunRetention[],
  localRecords: ReadonlySet<string>,
): Promise<{deletedRuns: number; deletedLogs: number}> {
  const deletedRuns = await cluster.pruneRuns(rules)
  const logs = await logFiles(layout)
  const ids = [...new Set(logs.map((l) => l.id))].filter((id) => !localRecords.has(id))
  let deletedLogs = 0
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH)
    const known = await cluster.knownRuns(batch)
    const gone = new Set(batch.filter((id) => !known.has(id)))
    const doomed = logs.filter((l) => gone.has(l.id))
    await Promise.all(doomed.map((l) => rm(l.path, {force: true})))
    deletedLogs += gone.size
  }
  return {deletedRuns, deletedLogs}
}

/** Every run log (both segments) in the state directory, with its run id. */
async function logFiles(layout: StateLayout): Promise<{id: string; path: string}[]> {
  const units = await readdir(layout.logsRoot, {withFileTypes: true}).catch(() => [])
  const out: {id: string; path: string}[] = []
  for (const unit of units) {
    if (!unit.isDirectory()) continue
    const dir = layout.logsDir(unit.name)
    for (const file of await readdir(dir).catch(() => [] as string[])) {
      const m = /^([0-9A-Z]{26})\.log(\.1)?$/.exec(file)
      if (m) out.push({id: m[1], path: join(dir, file)})
    }
  }
  return out
}
