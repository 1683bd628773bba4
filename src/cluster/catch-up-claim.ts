import type {CatchUp} from '../core/types.js'
import type {Schedule} from '../cron/schedule.js'
import {type CatchUpPlan, planCatchUp} from '../engine/catch-up.js'
import type {RunRecord} from '../state/run-record.js'
import {type ClusterAdmitResult, type EndUnstarted, type UnitLimits, admitIn} from './admission.js'
import type {ClusterDb} from './db.js'
import {lockTask} from './ledger.js'
import {type ClusterRun, type Owner, insertRun} from './runs.js'

export interface CatchUpTask extends UnitLimits {
  readonly schedule: Schedule
  readonly catch_up: CatchUp
  readonly max_catch_up_runs: number
}

/** The records the engine makes for what catch-up claims (it owns record shapes and ids). */
export interface CatchUpRecords {
  /** A catch-up run for the tick at `scheduledAt`, pending. */
  run(scheduledAt: number): RunRecord
  /** The one `missed` record of the plan, ended. */
  missed(plan: CatchUpPlan): RunRecord
}

export interface CatchUpClaim {
  readonly plan: CatchUpPlan
  /** The `missed` record, stored as this node's, when this node claimed the latest missed tick. */
  readonly missed?: ClusterRun
  /** This node's catch-up runs, oldest first, each admitted: started here, queued, or ended unstarted. */
  readonly admitted: readonly ClusterAdmitResult[]
}

/**
 * Catch-up after the whole cluster was down (SPEC §4.3, cluster-wide). The anchor is the newest
 * tick in the ledger (or when the cluster first saw the task); the ticks after it and before
 * `now` were missed by every node. One transaction, under the task's lock, plans, claims the
 * ticks, admits a run for each tick it claimed and stores the `missed` record — so the first
 * node to boot catches up and the next ones find the anchor moved (a missed tick is caught up
 * once, not once per node), and a node killed during its catch-up leaves either everything or
 * nothing: never a tick claimed without its run. A run admitted to start here that the node
 * dies before starting goes back to the queue (src/cluster/dead-nodes.ts). A tick another node
 * fired meanwhile on its own schedule stays its own.
 */
export async function claimCatchUp(db: ClusterDb, task: CatchUpTask, now: number, me: Owner, records: CatchUpRecords, endUnstarted: EndUnstarted): Promise<CatchUpClaim> {
  return db.transaction(async (sql) => {
    const {firstSeenAt} = await lockTask(sql, task.name)
    const {rows} = await sql.query<{latest: Date | null}>('SELECT max(scheduled_at) AS latest FROM sched.fire_ledger WHERE task = $1', [task.name])
    const anchor = rows[0].latest?.getTime() ?? firstSeenAt
    const plan = planCatchUp(task.schedule, anchor, now, task.catch_up, task.max_catch_up_runs)
    if (plan.missed === 0 || plan.latestMissed === undefined) return {plan, admitted: []}
    // The latest missed tick is claimed even when no run starts for it (catch_up = "skip"): it
    // is the new anchor, and the `missed` record stored with it is what it stands for.
    const ticks = [...new Set([...plan.runs, plan.latestMissed])].sort((a, b) => a - b)
    const {rows: claimed} = await sql.query<{scheduled_at: Date}>(
      `INSERT INTO sched.fire_ledger (task, scheduled_at, node) SELECT $1, unnest($2::timestamptz[]), $3
       ON CONFLICT DO NOTHING RETURNING scheduled_at`,
      [task.name, ticks.map((t) => new Date(t)), me.node],
    )
    const mine = new Set(claimed.map((r) => r.scheduled_at.getTime()))
    // The `missed` record first, as one daemon writes it: it is older than the runs it explains.
    const missed = mine.has(plan.latestMissed) ? await insertRun(sql, records.missed(plan), me) : undefined
    const admitted: ClusterAdmitResult[] = []
    for (const at of plan.runs) if (mine.has(at)) admitted.push(await admitIn(sql, task, records.run(at), me, endUnstarted))
    return {plan, missed, admitted}
  })
}
