import {END_REASONS, RUN_STATUS, TRIGGER_SOURCES} from '../core/types.js'
import {SchedError, ExitCode} from '../core/errors.js'
import type {RunRecord} from './run-record.js'
import type {RunEntry} from './runs.js'

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
 * Runs newest first, from `entries` given newest first. File names carry id, trigger source and
 * end reason, so filtering reads no record; only the page shown (and, for pending/running, the
 * few active records) is read — through `read`, which the daemon answers from memory for live
 * runs. `total` is exact when `countAll` (the daemon walks its in-memory index); otherwise the
 * walk stops at the first run past the page, so reading a page of the disk costs a page.
 */
export async function queryRuns(
  entries: Iterable<RunEntry>,
  q: RunQuery,
  read: (entry: RunEntry) => Promise<RunRecord | undefined>,
  countAll = true,
): Promise<RunPage> {
  checkRunQuery(q)
  // Pending and running share the `active` file name: those few records must be read to decide.
  const wantPhase = q.status === 'pending' || q.status === 'running'
  const phaseOf = async (e: RunEntry) => (await read(e))?.status
  const page: RunEntry[] = []
  let total = 0
  let more = false
  for (const e of entries) {
    if ((q.task !== undefined && e.unit !== q.task) || (q.triggered_by !== undefined && e.triggered_by !== q.triggered_by)) continue
    if (q.status !== undefined && !matchesState(e, q.status)) continue
    if (wantPhase && (await phaseOf(e)) !== q.status) continue
    // `total` counts every match, whichever page is asked for; `before` only picks the page.
    total++
    if (q.before !== undefined && e.id >= q.before) continue
    if (page.length < q.limit) page.push(e)
    else {
      more = true
      if (!countAll) break
    }
  }
  // The page's records are read together, not one after another.
  const runs = (await Promise.all(page.map(read))).filter((r): r is RunRecord => r !== undefined)
  return {runs, total, next: more && runs.length ? runs.at(-1)!.id : null}
}

/** An array sorted oldest first, walked newest first without copying it. */
export function* newestFirst<T>(sorted: readonly T[]): Generator<T> {
  for (let i = sorted.length - 1; i >= 0; i--) yield sorted[i]
}

function matchesState(e: RunEntry, status: string): boolean {
  if (status === 'ended') return e.state !== 'active'
  if (status === 'pending' || status === 'running') return e.state === 'active'
  return e.state === status
}
