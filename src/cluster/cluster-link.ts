import type {Clock, TimerHandle} from '../core/clock.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import type {Schedule} from '../cron/schedule.js'
import {configHash} from '../config/config-hash.js'
import type {ClusterConfigView, ClusterPort, ClusterReads, ClusterWork} from '../engine/cluster-port.js'
import type {RunQuery} from '../state/run-query.js'
import type {RunRecord} from '../state/run-record.js'
import {type EndUnstarted, admitRun, admitTick, claimQueued, dropQueued, pendingStops, queuedTasks, stopClusterRun, unfinishedRuns} from './admission.js'
import {clusterConfigHash} from './cluster-hash.js'
import type {ClusterNode} from './cluster-node.js'
import {ClusterUnavailable} from './db.js'
import {type CatchUpRecords, claimCatchUp} from './catch-up-claim.js'
import {pruneLedger, registerTasks} from './ledger.js'
import {listNodes, nodeAddress} from './nodes.js'
import type {HeldLease} from './leases.js'
import {type RunRetention, knownRuns, pruneRuns} from './run-retention.js'
import {ClusterRunWriter} from './run-writer.js'
import {clusterOccupancy, clusterStrips} from './unit-reads.js'
import {type InstanceHost, SlotKeeper} from './slot-keeper.js'
import {type ClusterRun, getRun, queryClusterRuns} from './runs.js'
import {Wakeups} from './wakeups.js'

/**
 * The engine's view of a joined node (src/engine/cluster-port.ts): each call one foundation
 * module, with this node as the owner. The node's own beat (heartbeat, lease renewals, reaping
 * dead nodes' runs) runs on its own timer from the join on.
 */
/** How often each node forgets old fire-ledger rows, and how old they must be. */
export const LEDGER_PRUNE_EVERY_MS = 3_600_000
export const LEDGER_KEEP_MS = 86_400_000

const READS_FRESH_MS = 1000

export class ClusterLink implements ClusterPort {
  readonly records: ClusterRunWriter
  private wakeups?: Wakeups
  private pruning?: TimerHandle
  private keeper?: SlotKeeper
  private readCache?: {at: number; value: Promise<ClusterReads>}
  private stopped = false

  constructor(
    private readonly joined: ClusterNode,
    private readonly seen: Map<string, number>,
    private readonly options: {readonly url: string; readonly clock: Clock; readonly logger: Logger; readonly startsCluster: boolean},
  ) {
    this.records = new ClusterRunWriter(joined.db, joined.me, options.clock, options.logger)
  }

  get node(): string {
    return this.joined.me.node
  }

  get startsCluster(): boolean {
    return this.options.startsCluster
  }

  get healthy(): boolean {
    return this.joined.healthy
  }

  firstSeen(unit: string): number | undefined {
    return this.seen.get(unit)
  }

  async reloaded(units: readonly Unit[], added: readonly string[]): Promise<void> {
    this.joined.configHash = configHash(units)
    if (added.length) for (const [name, at] of await registerTasks(this.joined.db, added)) this.seen.set(name, at)
  }

  async configView(): Promise<ClusterConfigView> {
    const mine = this.joined.configHash
    // Unreachable: the cluster's hash is not known, which is not a mismatch.
    const cluster = await this.reads().then((r) => r.configHash, () => null)
    return {config_hash: mine, cluster_config_hash: cluster, config_matches: cluster === null || cluster === mine}
  }

  claimTick(task: string, scheduledAt: number): Promise<boolean> {
    return this.joined.claimTick(task, scheduledAt)
  }

  catchUp(unit: Unit, schedule: Schedule, now: number, records: CatchUpRecords, endUnstarted: EndUnstarted) {
    return claimCatchUp(this.joined.db, {...unit, schedule}, now, this.joined.me, records, endUnstarted)
  }

  admit(unit: Unit, record: RunRecord, endUnstarted: EndUnstarted) {
    return admitRun(this.joined.db, unit, record, this.joined.me, endUnstarted)
  }

  async admitTick(unit: Unit, record: RunRecord, endUnstarted: EndUnstarted) {
    // A fenced node, or one that lost the database, claims nothing.
    if (!this.healthy) {
      this.claims.failed++
      return undefined
    }
    try {
      const admitted = await admitTick(this.joined.db, unit, record, this.joined.me, endUnstarted)
      this.claims[admitted ? 'won' : 'lost']++
      return admitted
    } catch (error) {
      this.claims.failed++
      throw error
    }
  }

  /** Cron ticks this node claimed, saw claimed by another node, or could not claim, since it started. */
  readonly claims = {won: 0, lost: 0, failed: 0}

  get leasesHeld(): number {
    return this.joined.leases.all().filter((l) => !l.lost).length
  }

  /**
   * Every task's running and queued counts and the live nodes, read at most once a second
   * however many readers ask (GET /api/tasks/{name}, the overview, /metrics, /api/daemon).
   */
  reads(): Promise<ClusterReads> {
    const now = this.options.clock.now()
    if (!this.readCache || now - this.readCache.at >= READS_FRESH_MS) {
      const value = Promise.all([clusterOccupancy(this.joined.db), listNodes(this.joined.db)]).then(([occupancy, {nodes}]) => ({
        occupancy,
        liveNodes: nodes.filter((n) => n.live).length,
        configHash: clusterConfigHash(nodes),
      }))
      // A failed read is not kept: the next reader asks again.
      value.catch(() => (this.readCache = undefined))
      this.readCache = {at: now, value}
    }
    return this.readCache.value
  }

  recentRuns(units: readonly string[], perUnit: number) {
    return clusterStrips(this.joined.db, units, perUnit)
  }

  async claimQueued(unit: (name: string) => Unit | undefined): Promise<ClusterRun[]> {
    if (!this.healthy) return []
    const claimed: ClusterRun[] = []
    for (const name of await queuedTasks(this.joined.db)) {
      const u = unit(name)
      // A task this node does not define (a reload elsewhere) is left for nodes that do.
      if (u?.kind === 'task') claimed.push(...(await claimQueued(this.joined.db, u, this.joined.me)))
    }
    return claimed
  }

  unfinishedRuns(task: string) {
    return unfinishedRuns(this.joined.db, task)
  }

  pendingStops() {
    return pendingStops(this.joined.db, this.joined.me)
  }

  stopRun(id: string, cause: string, endUnstarted: (record: RunRecord) => RunRecord) {
    return stopClusterRun(this.joined.db, id, cause, endUnstarted)
  }

  pruneRuns(rules: readonly RunRetention[]) {
    return pruneRuns(this.joined.db, rules)
  }

  knownRuns(ids: readonly string[]) {
    return knownRuns(this.joined.db, ids)
  }

  dropQueued(task: string, endUnstarted: (record: RunRecord) => RunRecord) {
    return dropQueued(this.joined.db, task, endUnstarted)
  }

  getRun(id: string) {
    return getRun(this.joined.db, id)
  }

  nodeAddress(name: string) {
    return nodeAddress(this.joined.db, name)
  }

  queryRuns(q: RunQuery) {
    return queryClusterRuns(this.joined.db, q)
  }

  keepSlots(host: InstanceHost, services: () => readonly Unit[]): {stop(): void} {
    const {clock, logger} = this.options
    this.keeper = new SlotKeeper({node: this.joined, clock, logger, services, firstSeen: (name) => this.seen.get(name), host})
    this.keeper.start()
    return this.keeper
  }

  /** The node's beat: leases the database no longer has as ours. */
  leasesLost(lost: readonly HeldLease[]): void {
    this.keeper?.lost(lost)
  }

  /** The node's name now belongs to another incarnation. */
  fenced(): void {
    this.keeper?.fenced()
  }

  async listen(handlers: ClusterWork): Promise<void> {
    const {url, clock} = this.options
    this.wakeups = new Wakeups({url, clock, node: this.node, pollMs: Math.max(1000, this.joined.leaseMs / 2), handlers: {work: () => handlers.work(), stops: () => handlers.stops()}})
    await this.wakeups.start()
    // Work queued before this node listened (by a node that is gone, or before a restart).
    handlers.work()
    this.armPrune()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.pruning?.cancel()
    this.keeper?.stop()
    await this.wakeups?.close()
    await this.joined.stop()
  }

  /**
   * The ledger gains a row per tick (a per-second task: 86,400 a day). Rows older than a day are
   * never claimed again — ticks are claimed as they come due — and each task's newest row, the
   * catch-up anchor, is kept; every node prunes (a DELETE that finds nothing costs nothing).
   */
  private armPrune(): void {
    const {clock, logger} = this.options
    if (this.stopped) return
    this.pruning = clock.setTimer(LEDGER_PRUNE_EVERY_MS, () => {
      void pruneLedger(this.joined.db, clock.now() - LEDGER_KEEP_MS)
        .catch((error: unknown) => {
          // Unreachable: said once by the database; the next hour tries again.
          if (!(error instanceof ClusterUnavailable)) logger.warn('cluster.prune_failed', {error: errorMessage(error)})
        })
        .finally(() => this.armPrune())
    })
  }
}
