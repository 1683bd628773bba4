import type {EndReason, Unit} from '../core/types.js'
import {type Admission, admit} from '../engine/admission.js'
import type {RunRecord} from '../state/run-record.js'
import type {ClusterDb, Sql} from './db.js'
import {claimTick, lockTask} from './ledger.js'
import {type ClusterRun, type Owner, RUN_COLUMNS, insertRun, toRun} from './runs.js'

/**
 * Admission cluster-wide (SPEC §4.5 across nodes): the same pure decision as one daemon makes
 * (src/engine/admission.ts), taken on the cluster's counts inside one transaction that holds
 * the task's row lock — so two nodes admitting at once are put in order, and `max_concurrent`,
 * `on_overlap` and `queue_max` hold for the cluster, not per node.
 *
 * Active runs are those a node has claimed and not ended; queued runs wait in sched.queue, owned
 * by no node, first in first out, until a node with room claims them (claimQueued).
 */

/** Builds the final record of a run that ends without starting (the engine owns record shapes). */
export type EndUnstarted = (record: RunRecord, reason: EndReason, message: string) => RunRecord

export interface ClusterAdmitResult {
  readonly decision: Admission
  /** The run as stored: owned by this node when it is to start now, queued, or ended (skip, queue_full). */
  readonly run: ClusterRun
  /** With `terminate`: the run asked to stop, and the node that owns it (told through sched_stop). */
  readonly victim?: {readonly id: string; readonly node: string}
}

export type UnitLimits = Pick<Unit, 'name' | 'max_concurrent' | 'on_overlap' | 'queue_max'>

interface ActiveRow {
  id: string
  node: string
  stop_requested: string | null
}

async function occupancy(sql: Sql, task: string): Promise<{active: ActiveRow[]; queued: number}> {
  const [{rows: active}, {rows: queued}] = await Promise.all([
    sql.query<ActiveRow>("SELECT id, node, stop_requested FROM sched.runs WHERE task_name = $1 AND status <> 'ended' AND node IS NOT NULL ORDER BY id", [task]),
    sql.query<{n: number}>('SELECT count(*)::float8 AS n FROM sched.queue WHERE task_name = $1', [task]),
  ])
  return {active, queued: queued[0].n}
}

/**
 * Admits a new run (every trigger source, on any node). `start`: the run is stored as this
 * node's, and the caller starts it. `queue`/`terminate`: stored in the queue (and with terminate
 * the oldest active run is asked to stop, on whichever node runs it). `skip`/`queue_full`: stored
 * ended, never started.
 */
export async function admitRun(db: ClusterDb, unit: UnitLimits, record: RunRecord, me: Owner, endUnstarted: EndUnstarted): Promise<ClusterAdmitResult> {
  return db.transaction((sql) => admitIn(sql, unit, record, me, endUnstarted))
}

/**
 * A cron tick's run: the tick (the record's scheduled_at) is claimed in the fire ledger and the
 * run admitted in one transaction, so a claimed tick always has its run — a node killed between
 * the two cannot leave a tick claimed that nobody runs. Undefined: another node has the tick,
 * and nothing was stored.
 */
export async function admitTick(db: ClusterDb, unit: UnitLimits, record: RunRecord, me: Owner, endUnstarted: EndUnstarted): Promise<ClusterAdmitResult | undefined> {
  return db.transaction(async (sql) => ((await claimTick(sql, unit.name, Date.parse(record.scheduled_at!), me.node)) ? admitIn(sql, unit, record, me, endUnstarted) : undefined))
}

/** Admission inside the caller's transaction (a cron tick's, or boot catch-up's with its claims). */
export async function admitIn(sql: Sql, unit: UnitLimits, record: RunRecord, me: Owner, endUnstarted: EndUnstarted): Promise<ClusterAdmitResult> {
  await lockTask(sql, unit.name)
  const {active, queued} = await occupancy(sql, unit.name)
  const stoppable = active.filter((r) => r.stop_requested === null).map((r) => r.id)
  const decision = admit(unit, {active: active.length, queued, stoppable})
  switch (decision.action) {
    case 'start':
      return {decision, run: await insertRun(sql, record, me)}
    case 'skip':
    case 'queue_full':
      return {decision, run: await insertRun(sql, endUnstarted(record, decision.action === 'skip' ? 'skipped' : 'queue_full', decision.message), null)}
    case 'queue':
    case 'terminate': {
      const run = await insertRun(sql, record, null)
      await sql.query('INSERT INTO sched.queue (seq, run_id, task_name) SELECT queue_seq, id, task_name FROM sched.runs WHERE id = $1', [record.id])
      await sql.query("SELECT pg_notify('sched_work', $1)", [unit.name])
      const victimId = decision.action === 'terminate' ? decision.victim : undefined
      if (!victimId) return {decision, run}
      const node = active.find((r) => r.id === victimId)!.node
      await requestStopIn(sql, victimId, 'terminate')
      return {decision, run, victim: {id: victimId, node}}
    }
  }
}

/**
 * Claims queued runs of `task` that fit under its max_concurrent, oldest first, for this node
 * to start now. Returns nothing when another node is claiming the same task at this moment (its
 * row is locked: SKIP LOCKED, not wait) or when there is no room.
 */
export async function claimQueued(db: ClusterDb, unit: UnitLimits, me: Owner): Promise<ClusterRun[]> {
  return db.transaction(async (sql) => {
    const {rows: locked} = await sql.query('SELECT 1 FROM sched.tasks WHERE name = $1 FOR UPDATE SKIP LOCKED', [unit.name])
    if (locked.length === 0) return []
    const {rows: busy} = await sql.query<{n: number}>("SELECT count(*)::float8 AS n FROM sched.runs WHERE task_name = $1 AND status <> 'ended' AND node IS NOT NULL", [unit.name])
    const room = unit.max_concurrent - busy[0].n
    if (room <= 0) return []
    const {rows: taken} = await sql.query<{seq: string; run_id: string}>(
      `DELETE FROM sched.queue WHERE seq IN (
         SELECT seq FROM sched.queue WHERE task_name = $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING seq, run_id`,
      [unit.name, room],
    )
    if (taken.length === 0) return []
    const {rows} = await sql.query(
      `UPDATE sched.runs SET node = $2, incarnation = $3 WHERE id = ANY($1::text[]) RETURNING ${RUN_COLUMNS}`,
      [taken.map((t) => t.run_id), me.node, me.incarnation],
    )
    const order = new Map(taken.map((t) => [t.run_id, BigInt(t.seq)]))
    return rows.map(toRun).sort((a, b) => (order.get(a.id)! < order.get(b.id)! ? -1 : 1))
  })
}

/** Tasks that have runs waiting, for a node deciding where to look after a wake-up or a poll. */
export async function queuedTasks(sql: Sql): Promise<string[]> {
  const {rows} = await sql.query<{task_name: string}>('SELECT DISTINCT task_name FROM sched.queue ORDER BY task_name')
  return rows.map((r) => r.task_name)
}

async function requestStopIn(sql: Sql, id: string, cause: string): Promise<string | null> {
  const {rows} = await sql.query<{node: string | null}>(
    `WITH asked AS (UPDATE sched.runs SET stop_requested = coalesce(stop_requested, $2) WHERE id = $1 AND status <> 'ended' RETURNING node)
     SELECT node, pg_notify('sched_stop', node) FROM asked WHERE node IS NOT NULL`,
    [id, cause],
  )
  return rows[0]?.node ?? null
}

export type StopOutcome = {readonly result: 'stopping'; readonly node: string} | {readonly result: 'dequeued'; readonly run: ClusterRun} | {readonly result: 'not_active'}

/**
 * Stops a run wherever it is: a running one is asked of the node that owns it (which sees it in
 * pendingStops, woken through sched_stop); a queued one ends at once, never started.
 */
export async function stopClusterRun(db: ClusterDb, id: string, cause: string, endUnstarted: (record: RunRecord) => RunRecord): Promise<StopOutcome> {
  return db.transaction(async (sql) => {
    const [dequeued] = await endQueued(sql, 'run_id = $1', [id], endUnstarted)
    if (dequeued) return {result: 'dequeued', run: dequeued}
    const node = await requestStopIn(sql, id, cause)
    return node ? {result: 'stopping', node} : {result: 'not_active'}
  })
}

/**
 * A reload removed the task: its runs waiting in the cluster's queue end now, never started
 * (SPEC §8). The node that reloads does it; a node that reloads later finds nothing left, and
 * one that has not reloaded yet stops claiming them with the first.
 */
export async function dropQueued(db: ClusterDb, task: string, endUnstarted: (record: RunRecord) => RunRecord): Promise<ClusterRun[]> {
  return db.transaction((sql) => endQueued(sql, 'task_name = $1', [task], endUnstarted))
}

/** Takes the queued runs `where` says off the queue and stores each ended as `endUnstarted` makes it, oldest first. */
async function endQueued(sql: Sql, where: string, values: unknown[], endUnstarted: (record: RunRecord) => RunRecord): Promise<ClusterRun[]> {
  const {rows: queued} = await sql.query(
    `WITH q AS (DELETE FROM sched.queue WHERE ${where} RETURNING run_id) SELECT ${RUN_COLUMNS} FROM sched.runs WHERE id IN (SELECT run_id FROM q) ORDER BY queue_seq FOR UPDATE`,
    values,
  )
  const out: ClusterRun[] = []
  for (const row of queued) {
    const ended = endUnstarted(toRun(row))
    const {rows} = await sql.query(
      `UPDATE sched.runs SET status = $2, end_reason = $3, ended_at = $4, duration_ms = $5, message = $6 WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
      [ended.id, ended.status, ended.end_reason, ended.ended_at, ended.duration_ms, ended.message],
    )
    out.push(toRun(rows[0]))
  }
  return out
}

/**
 * Runs of a task not ended yet (`sched stop TASK`): the queued ones first, so that they are taken
 * off the queue before stopping the running ones frees a slot for them; then oldest first.
 */
export async function unfinishedRuns(sql: Sql, task: string): Promise<string[]> {
  const {rows} = await sql.query<{id: string}>("SELECT id FROM sched.runs WHERE task_name = $1 AND status <> 'ended' ORDER BY node IS NOT NULL, id", [task])
  return rows.map((r) => r.id)
}

/** Runs of this node that another node asked to stop (terminate, an operator): the node stops each. */
export async function pendingStops(sql: Sql, me: Owner): Promise<{id: string; cause: string}[]> {
  const {rows} = await sql.query<{id: string; cause: string}>(
    "SELECT id, stop_requested AS cause FROM sched.runs WHERE node = $1 AND incarnation = $2 AND status <> 'ended' AND stop_requested IS NOT NULL ORDER BY id",
    [me.node, me.incarnation],
  )
  return rows
}
