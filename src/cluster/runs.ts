import {STATE_FORMAT} from '../state/json-file.js'
import {type RunPage, type RunQuery, checkRunQuery} from '../state/run-query.js'
import type {RunRecord} from '../state/run-record.js'
import {RUN_STATUS} from '../core/types.js'
import type {Sql} from './db.js'

/**
 * Run records in PostgreSQL (cluster mode): the record of src/state/run-record.ts, field for
 * field, plus the node that runs or ran it. Writes are fenced: only the node (and incarnation)
 * that owns a run may change it, and never once it has ended — so a node that was declared dead
 * and comes back cannot overwrite the `crashed` another node wrote: every run keeps exactly one
 * end.
 */
export interface ClusterRun extends RunRecord {
  /** The node that claimed it; null while it waits in the queue (or was never started). */
  readonly node: string | null
}

/** Who writes a run: a node, in one incarnation. */
export interface Owner {
  readonly node: string
  readonly incarnation: string
}

export const RUN_COLUMNS = `id, task_name, kind, status, end_reason, exit_code, signal, triggered_by, scheduled_at, created_at,
  started_at, ended_at, duration_ms, retry_attempt, retry_of_run_id, instance_index, params, pid, log_bytes::float8 AS log_bytes,
  message, process_start, node`

// The record's own fields in insert order; times go in as ISO text and come back as Date.
const FIELDS = [
  'id', 'task_name', 'kind', 'status', 'end_reason', 'exit_code', 'signal', 'triggered_by', 'scheduled_at', 'created_at',
  'started_at', 'ended_at', 'duration_ms', 'retry_attempt', 'retry_of_run_id', 'instance_index', 'params', 'pid', 'log_bytes',
  'message', 'process_start',
] as const
const TIMES = new Set(['scheduled_at', 'created_at', 'started_at', 'ended_at'])
// What a run's owner changes after the insert (id, task, kind, source, creation and retry links never change).
const MUTABLE = ['status', 'end_reason', 'exit_code', 'signal', 'scheduled_at', 'started_at', 'ended_at', 'duration_ms', 'params', 'pid', 'log_bytes', 'message', 'process_start'] as const

type Row = Record<string, unknown>

export function toRun(row: Row): ClusterRun {
  const out: Record<string, unknown> = {v: STATE_FORMAT}
  for (const f of FIELDS) {
    const value = row[f]
    out[f] = TIMES.has(f) && value instanceof Date ? value.toISOString() : value
  }
  if (out.process_start === null) delete out.process_start
  out.node = row.node ?? null
  return out as unknown as ClusterRun
}

function value(record: RunRecord, field: (typeof FIELDS)[number]): unknown {
  const v = record[field]
  return field === 'params' ? JSON.stringify(v) : v ?? null
}

/** Inserts a new run, owned by `owner` (or by no node yet, when it is queued). */
export async function insertRun(sql: Sql, record: RunRecord, owner: Owner | null): Promise<ClusterRun> {
  const values = [...FIELDS.map((f) => value(record, f)), owner?.node ?? null, owner?.incarnation ?? null]
  const holes = values.map((_, i) => `$${i + 1}`).join(', ')
  // Every run takes its admission order number now: if it is queued, or put back in the queue
  // when its node dies before starting it, it waits behind exactly the runs admitted before it.
  const {rows} = await sql.query(
    `INSERT INTO sched.runs (${FIELDS.join(', ')}, node, incarnation, queue_seq) VALUES (${holes}, nextval('sched.queue_seq_seq')) RETURNING ${RUN_COLUMNS}`,
    values,
  )
  return toRun(rows[0])
}

/**
 * Writes the owner's new version of a run (started, pid known, ended…). False when the write is
 * fenced off: the run is not this incarnation's, or it has already ended — the caller then
 * takes the database's record as the truth. An ended record wakes the nodes waiting to claim
 * the task's queued runs.
 */
export async function saveRun(sql: Sql, record: RunRecord, owner: Owner): Promise<boolean> {
  const sets = MUTABLE.map((f, i) => `${f} = $${i + 4}`).join(', ')
  const values = [record.id, owner.node, owner.incarnation, ...MUTABLE.map((f) => value(record, f))]
  const notify = record.status === 'ended' ? "SELECT pg_notify('sched_work', task_name) FROM saved" : 'SELECT 1 FROM saved'
  const {rowCount} = await sql.query(
    `WITH saved AS (UPDATE sched.runs SET ${sets} WHERE id = $1 AND node = $2 AND incarnation = $3 AND status <> 'ended' RETURNING task_name) ${notify}`,
    values,
  )
  return rowCount === 1
}

export async function getRun(sql: Sql, id: string): Promise<ClusterRun | undefined> {
  const {rows} = await sql.query(`SELECT ${RUN_COLUMNS} FROM sched.runs WHERE id = $1`, [id])
  return rows[0] ? toRun(rows[0]) : undefined
}

const PHASES: readonly string[] = RUN_STATUS

/**
 * `GET /api/runs` and `sched runs` over the whole cluster: the same filters, order (newest
 * first), page and `total` as src/state/run-query.ts, answered by PostgreSQL.
 */
export async function queryClusterRuns(sql: Sql, q: RunQuery & {readonly node?: string}): Promise<Omit<RunPage, 'runs'> & {runs: ClusterRun[]}> {
  checkRunQuery(q)
  const where: string[] = []
  const values: unknown[] = []
  const add = (clause: string, v: unknown) => {
    values.push(v)
    where.push(clause.replace('?', `$${values.length}`))
  }
  if (q.task !== undefined) add('task_name = ?', q.task)
  if (q.status !== undefined) add(PHASES.includes(q.status) ? 'status = ?' : 'end_reason = ?', q.status)
  if (q.triggered_by !== undefined) add('triggered_by = ?', q.triggered_by)
  if (q.node !== undefined) add('node = ?', q.node)
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : ''
  const counted = sql.query<{n: number}>(`SELECT count(*)::float8 AS n FROM sched.runs ${filter}`, values)
  const pageValues = [...values]
  let pageFilter = filter
  if (q.before !== undefined) {
    pageValues.push(q.before)
    pageFilter = `${filter ? `${filter} AND` : 'WHERE'} id < $${pageValues.length}`
  }
  pageValues.push(q.limit + 1)
  const page = sql.query(`SELECT ${RUN_COLUMNS} FROM sched.runs ${pageFilter} ORDER BY id DESC LIMIT $${pageValues.length}`, pageValues)
  const [{rows: total}, {rows}] = await Promise.all([counted, page])
  const runs = rows.slice(0, q.limit).map(toRun)
  return {runs, total: total[0].n, next: rows.length > q.limit && runs.length ? runs.at(-1)!.id : null}
}
