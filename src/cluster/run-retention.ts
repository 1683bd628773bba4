import type {Sql} from './db.js'

/** A unit's retention rules (SPEC §7) as the cluster applies them to sched.runs. */
export interface RunRetention {
  readonly name: string
  /** Keep only the N newest ended runs; 0 = no cap. */
  readonly keepRuns: number
  /** Delete ended runs created before this (epoch ms); undefined = no age limit. */
  readonly cutoff?: number
}

/**
 * Retention of run records in PostgreSQL (SPEC §7, cluster-wide): beyond a unit's `keep_runs`
 * newest ended runs, or created before its `keep_for` cutoff — the rules the state directory
 * follows (src/engine/retention.ts). Only ended runs are counted or deleted: never a pending,
 * queued or running one. Every node runs it; two at once are put in order by the rows' locks, and
 * the later one deletes nothing the earlier did (its snapshot can only rank a run too new, never
 * too old). Returns how many records this call deleted.
 */
export async function pruneRuns(sql: Sql, rules: readonly RunRetention[]): Promise<number> {
  const active = rules.filter((r) => r.keepRuns > 0 || r.cutoff !== undefined)
  if (active.length === 0) return 0
  const {rowCount} = await sql.query(
    `WITH rules AS (
       SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS u(name, keep_runs, cutoff)
     ), ranked AS (
       SELECT r.id, r.created_at, u.keep_runs, u.cutoff, row_number() OVER (PARTITION BY r.task_name ORDER BY r.id DESC) AS n
       FROM sched.runs r JOIN rules u ON u.name = r.task_name
       WHERE r.status = 'ended'
     )
     DELETE FROM sched.runs d USING ranked k
     WHERE d.id = k.id AND d.status = 'ended'
       AND ((k.keep_runs > 0 AND k.n > k.keep_runs) OR (k.cutoff IS NOT NULL AND k.created_at < k.cutoff))`,
    [active.map((r) => r.name), active.map((r) => r.keepRuns), active.map((r) => (r.cutoff === undefined ? null : new Date(r.cutoff)))],
  )
  return rowCount ?? 0
}

/** Which of these run ids still have a record in the cluster. */
export async function knownRuns(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  const {rows} = await sql.query<{id: string}>('SELECT id FROM sched.runs WHERE id = ANY($1::text[])', [ids])
  return new Set(rows.map((r) => r.id))
}
