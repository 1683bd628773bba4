import type {CatchUp} from '../core/types.js'
import type {Schedule} from '../cron/schedule.js'
import {type CatchUpPlan, planCatchUp} from '../engine/catch-up.js'
import type {ClusterDb, Sql} from './db.js'

/**
 * The fire ledger (SPEC §13): one row per (task, tick) that some node fired. Every node computes
 * the same ticks; the one whose insert lands starts the run, the others let it pass. The table's
 * primary key is the whole guarantee.
 */

/** True when this node claimed the tick and must start it; false when another node already did. */
export async function claimTick(sql: Sql, task: string, scheduledAt: number, node: string): Promise<boolean> {
  const {rowCount} = await sql.query(
    'INSERT INTO sched.fire_ledger (task, scheduled_at, node) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [task, new Date(scheduledAt), node],
  )
  return rowCount === 1
}

/**
 * Makes sure every task has its row (the lock admission takes, and the anchor of a task that
 * never fired) and returns when the cluster first saw each — the common anchor of `@every`
 * schedules, so that every node computes the same ticks.
 */
export async function registerTasks(sql: Sql, names: readonly string[]): Promise<Map<string, number>> {
  if (names.length) await sql.query('INSERT INTO sched.tasks (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [names])
  const {rows} = await sql.query<{name: string; first_seen_at: Date}>('SELECT name, first_seen_at FROM sched.tasks WHERE name = ANY($1)', [names])
  return new Map(rows.map((r) => [r.name, r.first_seen_at.getTime()]))
}

/** Locks a task's row for the rest of the transaction (creating it if needed): its admission and catch-up go one at a time. */
export async function lockTask(sql: Sql, name: string): Promise<{firstSeenAt: number}> {
  for (;;) {
    const {rows} = await sql.query<{first_seen_at: Date}>('SELECT first_seen_at FROM sched.tasks WHERE name = $1 FOR UPDATE', [name])
    if (rows[0]) return {firstSeenAt: rows[0].first_seen_at.getTime()}
    await sql.query('INSERT INTO sched.tasks (name) VALUES ($1) ON CONFLICT DO NOTHING', [name])
  }
}

export interface CatchUpClaim {
  readonly plan: CatchUpPlan
  /** The ticks this node claimed for catch-up runs, oldest first: start one run for each. */
  readonly runs: readonly number[]
  /** Whether this node records the one `missed` run (at plan.latestMissed). */
  readonly recordMissed: boolean
}

/**
 * Catch-up after the whole cluster was down (SPEC §4.3, cluster-wide): the anchor is the newest
 * tick in the ledger (or when the cluster first saw the task); the ticks after it and before
 * `now` were missed by every node. Planned and claimed under the task's lock, so the first node
 * to boot catches up and the next ones find the anchor moved: a missed tick is caught up once,
 * not once per node. A tick another node fired meanwhile on its own schedule stays its own.
 */
export async function claimCatchUp(
  db: ClusterDb,
  task: {name: string; schedule: Schedule; policy: CatchUp; cap: number},
  now: number,
  node: string,
): Promise<CatchUpClaim> {
  return db.transaction(async (sql) => {
    const {firstSeenAt} = await lockTask(sql, task.name)
    const {rows} = await sql.query<{latest: Date | null}>('SELECT max(scheduled_at) AS latest FROM sched.fire_ledger WHERE task = $1', [task.name])
    const anchor = rows[0].latest?.getTime() ?? firstSeenAt
    const plan = planCatchUp(task.schedule, anchor, now, task.policy, task.cap)
    if (plan.missed === 0 || plan.latestMissed === undefined) return {plan, runs: [], recordMissed: false}
    // The latest missed tick is claimed even when no run starts for it (catch_up = "skip"): it
    // is the new anchor, so the next node to boot sees nothing missed.
    const ticks = [...new Set([...plan.runs, plan.latestMissed])].sort((a, b) => a - b)
    const {rows: claimed} = await sql.query<{scheduled_at: Date}>(
      `INSERT INTO sched.fire_ledger (task, scheduled_at, node) SELECT $1, unnest($2::timestamptz[]), $3
       ON CONFLICT DO NOTHING RETURNING scheduled_at`,
      [task.name, ticks.map((t) => new Date(t)), node],
    )
    const mine = new Set(claimed.map((r) => r.scheduled_at.getTime()))
    return {plan, runs: plan.runs.filter((t) => mine.has(t)), recordMissed: mine.has(plan.latestMissed)}
  })
}

/**
 * Forgets ledger rows older than `before` (epoch ms), keeping each task's newest: it is the
 * catch-up anchor. Ticks are claimed as they come due, so an old row is never claimed again.
 */
export async function pruneLedger(sql: Sql, before: number): Promise<number> {
  const {rowCount} = await sql.query(
    `DELETE FROM sched.fire_ledger l WHERE l.scheduled_at < $1
       AND l.scheduled_at < (SELECT max(m.scheduled_at) FROM sched.fire_ledger m WHERE m.task = l.task)`,
    [new Date(before)],
  )
  return rowCount ?? 0
}
