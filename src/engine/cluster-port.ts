import type {ClusterAdmitResult, EndUnstarted, StopOutcome} from '../cluster/admission.js'
import type {CatchUpClaim, CatchUpRecords} from '../cluster/catch-up-claim.js'
import type {InstanceHost} from '../cluster/slot-keeper.js'
import type {Occupancy, StripRow} from '../cluster/unit-reads.js'
import type {NodeAddress} from '../cluster/nodes.js'
import type {RunRetention} from '../cluster/run-retention.js'
import type {ClusterRun} from '../cluster/runs.js'
import type {Unit} from '../core/types.js'
import type {Schedule} from '../cron/schedule.js'
import type {RunPage, RunQuery} from '../state/run-query.js'
import type {RunRecord} from '../state/run-record.js'
import type {RecordWriter} from './run.js'

export interface ClusterReads {
  /** Per task (absent: nothing going): runs held by a node, and runs in the cluster's queue. */
  readonly occupancy: ReadonlyMap<string, Occupancy>
  readonly liveNodes: number
  /** The config hash most live nodes run (null with none live). */
  readonly configHash: string | null
}

export interface ClusterConfigView {
  readonly config_hash: string
  readonly cluster_config_hash: string | null
  readonly config_matches: boolean
}

/** What wakes the engine for cluster work (src/cluster/wakeups.ts). */
export interface ClusterWork {
  /** Queued runs may be claimable. */
  work(): void
  /** Another node asked this one to stop some of its runs. */
  stops(): void
}

/**
 * Everything the engine asks of the cluster (docs/cluster.md), as one small interface: the
 * daemon gets one at construction in cluster mode and none on its own, so the file-based path
 * stays exactly as it is. Calls that cannot reach the database throw ClusterUnavailable
 * (src/cluster/db.ts): whatever they were about to decide did not happen.
 */
export interface ClusterPort {
  /** This node's name. */
  readonly node: string
  /** No other node was live when this one joined: it runs the `run_on_start` tasks, once for the cluster. */
  readonly startsCluster: boolean
  /** The database answers and the name is still ours. */
  readonly healthy: boolean
  /** Run records go to the database, fenced to this node's incarnation; `close()` at shutdown stops waiting for it. */
  readonly records: RecordWriter & {close(): void}
  /** When the cluster first saw a unit: the anchor of `@every`, so every node computes the same ticks. */
  firstSeen(unit: string): number | undefined
  /**
   * A reload: the new config's hash is published from the next heartbeat on, and the units it
   * added are registered, so that firstSeen knows them.
   */
  reloaded(units: readonly Unit[], added: readonly string[]): Promise<void>
  /** Cluster-wide counts for the readers (at most a second old). */
  reads(): Promise<ClusterReads>
  /** The newest `perUnit` runs of each unit, from every node (the overview's strips). */
  recentRuns(units: readonly string[], perUnit: number): Promise<Map<string, StripRow[]>>
  /** Cron ticks this node claimed (won), found claimed by another node (lost), or could not claim (failed). */
  readonly claims: {readonly won: number; readonly lost: number; readonly failed: number}
  /** Service slot leases this node holds. */
  readonly leasesHeld: number
  /** This node's config hash beside the cluster's (the one most live nodes run; null when unknown). */
  configView(): Promise<ClusterConfigView>
  /** True only when this node won the tick: false when another node did, or the database cannot tell. */
  claimTick(task: string, scheduledAt: number): Promise<boolean>
  /** Catch-up planned on the fire ledger, once cluster-wide: each tick claimed with its run's admission. */
  catchUp(unit: Unit, schedule: Schedule, now: number, records: CatchUpRecords, endUnstarted: EndUnstarted): Promise<CatchUpClaim>
  /** Admission on the cluster's counts (src/cluster/admission.ts). */
  admit(unit: Unit, record: RunRecord, endUnstarted: EndUnstarted): Promise<ClusterAdmitResult>
  /** A cron tick's run: its tick claimed and the run admitted at once; undefined when another node has the tick. */
  admitTick(unit: Unit, record: RunRecord, endUnstarted: EndUnstarted): Promise<ClusterAdmitResult | undefined>
  /** Queued runs this node claimed and must start now, oldest first, per task that has any. */
  claimQueued(unit: (name: string) => Unit | undefined): Promise<ClusterRun[]>
  /** Runs of this node another node asked to stop. */
  pendingStops(): Promise<{id: string; cause: string}[]>
  /** A task's runs not ended yet, on any node or queued. */
  unfinishedRuns(task: string): Promise<string[]>
  /** Stops a run wherever it is: asks its node, or ends it if it was queued. */
  stopRun(id: string, cause: string, endUnstarted: (record: RunRecord) => RunRecord): Promise<StopOutcome>
  /** Retention of run records cluster-wide (src/cluster/run-retention.ts): how many this call deleted. */
  pruneRuns(rules: readonly RunRetention[]): Promise<number>
  /** Which of these run ids still have a record in the cluster. */
  knownRuns(ids: readonly string[]): Promise<Set<string>>
  /** A reload removed the task: its runs queued in the cluster end now (as `endUnstarted` makes them). */
  dropQueued(task: string, endUnstarted: (record: RunRecord) => RunRecord): Promise<ClusterRun[]>
  getRun(id: string): Promise<ClusterRun | undefined>
  /** Where another node's API is (its `advertise`), and whether it is live: to proxy a run's log there. */
  nodeAddress(name: string): Promise<NodeAddress | undefined>
  queryRuns(q: RunQuery): Promise<Omit<RunPage, 'runs'> & {runs: ClusterRun[]}>
  /**
   * Services: from now on this node takes its share of the instance slots under leases and starts
   * their instances on `host` (src/cluster/slot-keeper.ts). `stop()` takes no more.
   */
  keepSlots(host: InstanceHost, services: () => readonly Unit[]): {stop(): void}
  /** Starts listening for work (LISTEN/NOTIFY and a slow poll). */
  listen(handlers: ClusterWork): Promise<void>
  /** Ends membership: no more wake-ups or beats; the node is marked left. */
  stop(): Promise<void>
}
