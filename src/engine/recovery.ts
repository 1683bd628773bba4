import type {Logger} from '../core/logger.js'
import {isSameProcess} from '../state/process-identity.js'
import type {RunRecord} from '../state/run-record.js'
import type {RunEntry, RunStore} from '../state/runs.js'
import type {RecordWriter} from './run.js'
import {iso} from './run.js'
import {killRuns} from './runner/process-group.js'

export interface Recovered {
  /** Runs that were waiting in a queue: to be resumed, oldest first. */
  readonly pending: readonly {record: RunRecord; entry: RunEntry}[]
  /** Runs found running, now ended `crashed`. */
  readonly crashed: readonly RunRecord[]
}

/**
 * Kills what survives of runs whose daemon died: each one's process group only when the recorded
 * pid is still the same process (start time checked), and anything carrying its SCHED_RUN_ID —
 * in one walk of /proc for them all (a boot after a crash under load finds hundreds). Returns
 * how many processes each run had left, the leader included: it carries the run id too.
 */
export function killLeftovers(records: readonly RunRecord[]): Map<string, number> {
  return killRuns(
    records.map((record) => {
      const leaderAlive = record.pid !== null && record.process_start != null && isSameProcess({pid: record.pid, start: record.process_start})
      return {runId: record.id, pgid: leaderAlive ? record.pid : null}
    }),
  )
}

/**
 * Boot: a run still `running` on disk was cut short by a daemon that died. Its orphaned
 * processes are killed — by process group only when the recorded pid still belongs to the same
 * process (start time checked, so a recycled pid is never signalled), and by the run's
 * SCHED_RUN_ID marker for any that left the group — and it ends `crashed`, never re-run.
 */
export async function recoverRuns(store: RunStore, records: Pick<RecordWriter, 'save'>, active: readonly RunEntry[], now: number, logger: Logger): Promise<Recovered> {
  const pending: {record: RunRecord; entry: RunEntry}[] = []
  const cut: {record: RunRecord; entry: RunEntry}[] = []
  for (const entry of active) {
    const record = await store.read(entry)
    if (!record) continue
    if (record.status === 'pending') pending.push({record, entry})
    else cut.push({record, entry})
  }
  const orphansOf = killLeftovers(cut.map(({record}) => record))
  const crashed: RunRecord[] = []
  for (const {record, entry} of cut) {
    const orphans = orphansOf.get(record.id) ?? 0
    const ended: RunRecord = {
      ...record,
      status: 'ended',
      end_reason: 'crashed',
      ended_at: iso(now),
      duration_ms: record.started_at ? Math.max(0, now - Date.parse(record.started_at)) : null,
      message: `the daemon stopped unexpectedly while this run was running${orphans ? `; killed ${orphans === 1 ? 'its orphaned process group' : `${orphans} orphaned processes`}` : ''}`,
    }
    await records.save(ended, entry)
    crashed.push(ended)
    logger.warn('run.crashed', {task: record.task_name, run: record.id, orphans_killed: orphans})
  }
  pending.sort((a, b) => (a.record.id < b.record.id ? -1 : 1))
  return {pending, crashed}
}
