import {END_REASONS, RUN_STATUS, TRIGGER_SOURCES} from '../core/types.js'
import {SchedError, ExitCode} from '../core/errors.js'
import type {RunRecord} from './run-record.js'
import type {RunEntry, RunStore} from './runs.js'

export interface RunQuery {
  readonly task?: string
  /** A phase (pending, running, ended) or an end reason. */
  readonly status?: string
  readonly triggered_by?: string
  readonly limit: number
  /** Only runs older than this id (the previous page's `next`). */
  readonly before?: string
}

export interface RunPage {
  readonly runs: RunRecord[]
  readonly total: number
  /** The id to pass as `before` for the next page, or null. */
  readonly next: string | null
}

const STATUSES: readonly string[] = [...RUN_STATUS, ...END_REASONS]

export function checkRunQuery(q: Pick<RunQuery, 'status' | 'triggered_by'>): void {
  if (q.status !== undefined && !STATUSES.includes(q.status)) {
    throw new SchedError(`unknown status "${q.status}"`, {exit: ExitCode.usage, hint: `use one of ${STATUSES.join(', ')}`})
  }
  if (q.triggered_by !== undefined && !(TRIGGER_SOURCES as readonly string[]).includes(q.triggered_by)) {
    throw new SchedError(`unknown trigger source "${q.triggered_by}"`, {exit: ExitCode.usage, hint: `use one of ${TRIGGER_SOURCES.join(', ')}`})
  }
}

/**
 * Runs newest first. Listings carry id, trigger source and end reason in the file names, so
 * filtering reads no record; only the page shown (and, for pending/running, the few active
 * records) is read.
 */
export async function queryRuns(store: RunStore, entries: readonly RunEntry[], q: RunQuery): Promise<RunPage> {
  checkRunQuery(q)
  let matching = entries.filter(
    (e) =>
      (q.task === undefined || e.unit === q.task) &&
      (q.triggered_by === undefined || e.triggered_by === q.triggered_by) &&
      (q.status === undefined || matchesState(e, q.status)) &&
      (q.before === undefined || e.id < q.before),
  )
  matching = [...matching].sort((a, b) => (a.id < b.id ? 1 : -1))
  const wantPhase = q.status === 'pending' || q.status === 'running'
  const runs: RunRecord[] = []
  let total = matching.length
  let i = 0
  for (; i < matching.length && runs.length < q.limit; i++) {
    const record = await store.read(matching[i])
    if (!record) continue
    if (wantPhase && record.status !== q.status) {
      total--
      continue
    }
    runs.push(record)
  }
  if (wantPhase) {
    // The rest of the active runs must be read to count them exactly; there are few.
    for (let j = i; j < matching.length; j++) {
      const record = await store.read(matching[j])
      if (!record || record.status !== q.status) total--
    }
  }
  const more = runs.length === q.limit && i < matching.length
  return {runs, total, next: more ? runs.at(-1)!.id : null}
}

function matchesState(e: RunEntry, status: string): boolean {
  if (status === 'ended') return e.state !== 'active'
  if (status === 'pending' || status === 'running') return e.state === 'active'
  return e.state === status
}
