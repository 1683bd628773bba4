import type {Sql} from './db.js'
import {type ClusterRun, type Owner, RUN_COLUMNS, toRun} from './runs.js'

/**
 * A node that stopped renewing its lease (killed, frozen, cut off) leaves runs marked running
 * under its name. Once its lease has expired another node ends them `crashed` — exactly once,
 * since each UPDATE only touches runs not yet ended and row locks put concurrent reapers in
 * order. Runs it had claimed but not started go back to the queue at their old place, for any
 * node to claim; nothing it started is started again.
 */
export interface Reaped {
  readonly node: string
  readonly crashed: ClusterRun[]
  readonly requeued: string[]
}

async function endUnfinished(sql: Sql, where: string, values: unknown[], message: string): Promise<ClusterRun[]> {
  const n = values.length
  const {rows} = await sql.query(
    `UPDATE sched.runs SET status = 'ended', end_reason = 'crashed', ended_at = now(),
       duration_ms = CASE WHEN started_at IS NULL THEN 0 ELSE extract(epoch FROM now() - started_at) * 1000 END, message = $${n + 1}
     WHERE ${where} AND status = 'running' RETURNING ${RUN_COLUMNS}`,
    [...values, message],
  )
  return rows.map(toRun)
}

async function requeueUnstarted(sql: Sql, where: string, values: unknown[]): Promise<string[]> {
  const {rows} = await sql.query<{id: string; task_name: string}>(
    `WITH back AS (
       UPDATE sched.runs SET node = NULL, incarnation = NULL WHERE ${where} AND status = 'pending' RETURNING id, task_name, queue_seq)
     INSERT INTO sched.queue (seq, run_id, task_name)
       SELECT queue_seq, id, task_name FROM back
     RETURNING run_id AS id, task_name`,
    values,
  )
  for (const task of new Set(rows.map((r) => r.task_name))) await sql.query("SELECT pg_notify('sched_work', $1)", [task])
  return rows.map((r) => r.id)
}

/** Ends the runs of every node whose lease has expired (the caller runs it in a transaction). */
export async function reapDeadNodes(sql: Sql, me: Owner): Promise<Reaped[]> {
  const {rows: dead} = await sql.query<{name: string; incarnation: string; last_seen: Date}>(
    `SELECT n.name, n.incarnation, n.last_seen FROM sched.nodes n
     WHERE n.expires_at <= now() AND n.name <> $1
       AND EXISTS (SELECT 1 FROM sched.runs r WHERE r.node = n.name AND r.status <> 'ended')
     ORDER BY n.name FOR UPDATE OF n SKIP LOCKED`,
    [me.node],
  )
  const out: Reaped[] = []
  for (const d of dead) {
    const message = `node ${d.name} stopped renewing its lease (last seen ${d.last_seen.toISOString()}); ended by node ${me.node}`
    const crashed = await endUnfinished(sql, 'node = $1', [d.name], message)
    const requeued = await requeueUnstarted(sql, 'node = $1', [d.name])
    out.push({node: d.name, crashed, requeued})
  }
  return out
}

/**
 * At boot, the runs this node's previous incarnation left: unfinished ones end `crashed` (if no
 * other node got there first) and claimed-but-unstarted ones go back to the queue. Returns every
 * run of that incarnation that had a process, ended now or earlier by a reaper, so the node can
 * kill what survives of them (their pid and process start time are on the records).
 */
export async function endPreviousIncarnation(sql: Sql, me: Owner, previous: string): Promise<ClusterRun[]> {
  await endUnfinished(sql, 'node = $1 AND incarnation = $2', [me.node, previous], `node ${me.node} restarted while the run was going`)
  await requeueUnstarted(sql, 'node = $1 AND incarnation = $2', [me.node, previous])
  const {rows} = await sql.query(
    `SELECT ${RUN_COLUMNS} FROM sched.runs WHERE node = $1 AND incarnation = $2 AND end_reason = 'crashed' AND pid IS NOT NULL ORDER BY id`,
    [me.node, previous],
  )
  return rows.map(toRun)
}
