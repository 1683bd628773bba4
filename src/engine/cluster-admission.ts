import {ClusterUnavailable} from '../cluster/unavailable.js'
import type {EndReason, Unit} from '../core/types.js'
import type {RunRecord} from '../state/run-record.js'
import type {ClusterPort} from './cluster-port.js'
import {type Refusal, refused} from './outcomes.js'

/** What the cluster's admission came to, for the run owner to act on. */
export type ClusterAdmission =
  | {readonly action: 'start'}
  /** In the cluster's queue: whichever node has room claims it. */
  | {readonly action: 'queued'; readonly run: RunRecord}
  /** Recorded ended without starting. */
  | {readonly action: 'skipped' | 'queue_full'; readonly run: RunRecord}
  | {readonly action: 'refused'; readonly refusal: Refusal}

/**
 * Whether admitting this run also claims its cron tick in the fire ledger: a scheduled run's
 * first attempt does; its retries do not (the tick is already theirs), nor catch-up runs (their
 * ticks were claimed with the catch-up plan), nor anything else.
 */
export function claimsTick(record: Pick<RunRecord, 'triggered_by' | 'retry_attempt' | 'scheduled_at'>): boolean {
  return record.triggered_by === 'cron' && record.retry_attempt === 0 && record.scheduled_at !== null
}

/**
 * Admission on the cluster's counts (docs/cluster.md), with a cron tick claimed in the same
 * transaction. A database that cannot be reached, or a tick another node claimed, is a refusal:
 * nothing was stored.
 */
export async function admitInCluster(cluster: ClusterPort, unit: Unit, record: RunRecord, endUnstarted: (record: RunRecord, reason: EndReason, message: string) => RunRecord): Promise<ClusterAdmission> {
  let admitted
  try {
    admitted = claimsTick(record) ? await cluster.admitTick(unit, record, endUnstarted) : await cluster.admit(unit, record, endUnstarted)
  } catch (error) {
    if (error instanceof ClusterUnavailable) return {action: 'refused', refusal: refused('unavailable', `${error.message}; no run was created, try again when it answers`)}
    throw error
  }
  if (!admitted) return {action: 'refused', refusal: refused('conflict', `the tick at ${record.scheduled_at} of task "${unit.name}" is another node's (claimed in the fire ledger)`)}
  switch (admitted.decision.action) {
    case 'start':
      return {action: 'start'}
    case 'queue':
    case 'terminate':
      return {action: 'queued', run: admitted.run}
    case 'skip':
      return {action: 'skipped', run: admitted.run}
    case 'queue_full':
      return {action: 'queue_full', run: admitted.run}
  }
}
