import type {EndReason, TriggerSource} from '../core/types.js'
import type {Sql} from './db.js'

/** A task's runs not ended, cluster-wide: held by a node (pending or running), and queued. */
export interface Occupancy {
  readonly active: number
  readonly queued: number
}

/** Every task's occupancy in two grouped queries (tasks with nothing going are absent). */
export async function clusterOccupancy(sql: Sql): Promise<Map<string, Occupancy>> {
  const [{rows: active}, {rows: queued}] = await Promise.all([
    sql.query<{task_name: string; n: number}>("SELECT task_name, count(*)::float8 AS n FROM sched.runs WHERE status <> 'ended' AND node IS NOT NULL GROUP BY task_name"),
    sql.query<{task_name: string; n: number}>('SELECT task_name, count(*)::float8 AS n FROM sched.queue GROUP BY task_name'),
  ])
  const out = new Map<string, Occupancy>()
  for (const r of active) out.set(r.task_name, {active: r.n, queued: 0})
  for (const r of queued) out.set(r.task_name, {active: out.get(r.task_name)?.active ?? 0, queued: r.n})
  return out
}

/** One run of an overview strip (the shape of src/api/overview.ts StripRun). */
export interface StripRow {
  readonly id: string
  readonly state: EndReason | 'active'
  readonly triggered_by: TriggerSource
  readonly created_at: string
}

/** The newest `perUnit` runs of each of `units`, newest first, from every node. */
export async function clusterStrips(sql: Sql, units: readonly string[], perUnit: number): Promise<Map<string, StripRow[]>> {
  const out = new Map<string, StripRow[]>(units.map((u) => [u, []]))
  if (units.length === 0) return out
  const {rows} = await sql.query<{id: string; task_name: string; status: string; end_reason: EndReason | null; triggered_by: TriggerSource; created_at: Date}>(
    `SELECT id, task_name, status, end_reason, triggered_by, created_at FROM (
       SELECT id, task_name, status, end_reason, triggered_by, created_at, row_number() OVER (PARTITION BY task_name ORDER BY id DESC) AS n
       FROM sched.runs WHERE task_name = ANY($1)) r
     WHERE n <= $2 ORDER BY task_name, id DESC`,
    [units, perUnit],
  )
  for (const r of rows) {
    out.get(r.task_name)?.push({id: r.id, state: r.status === 'ended' && r.end_reason ? r.end_reason : 'active', triggered_by: r.triggered_by, created_at: r.created_at.toISOString()})
  }
  return out
}
