import type {Sql} from './db.js'

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
