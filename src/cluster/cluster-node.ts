import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {ClusterSettings} from '../core/types.js'
import {ClusterDb, ClusterUnavailable} from './db.js'
import {type Reaped, endPreviousIncarnation, reapDeadNodes} from './dead-nodes.js'
import {claimTick, registerTasks} from './ledger.js'
import {type HeldLease, LeaseBook, renewSlots} from './leases.js'
import {heartbeat, joinCluster, leaveCluster, newIncarnation, type NodeIdentity} from './nodes.js'
import type {ClusterRun, Owner} from './runs.js'
import {migrate} from './schema.js'

/** What the node tells the engine; each call is a hint to look, never a command to trust blindly. */
export interface ClusterEvents {
  /** Leases the database no longer has as ours: kill those instances now (see lease-verdict.ts). */
  leasesLost(lost: readonly HeldLease[]): void
  /** Our name now belongs to another incarnation: this process must stop acting as the node. */
  fenced(): void
  /** Runs of dead nodes this node ended `crashed` (for events and metrics). */
  reaped(reaped: readonly Reaped[]): void
}

export interface ClusterNodeOptions {
  readonly settings: ClusterSettings
  readonly clock: Clock
  readonly logger: Logger
  readonly identity: Omit<NodeIdentity, 'name' | 'incarnation'>
  /** Every task and service name of the config. */
  readonly units: readonly string[]
  readonly events: ClusterEvents
}

export interface JoinedNode {
  readonly node: ClusterNode
  /** Runs this node's previous life left with a process: kill what survives of them. */
  readonly orphans: readonly ClusterRun[]
  /** When the cluster first saw each unit: the common anchor of `@every` schedules. */
  readonly firstSeen: ReadonlyMap<string, number>
  /** No other node was live at the join: this node starts the cluster (its `run_on_start` tasks run). */
  readonly startsCluster: boolean
}

/**
 * One daemon's membership of the cluster: it migrates the schema, joins under its name, and then
 * beats every third of a lease on the injected clock — heartbeat (with the clock skew), renewal
 * of its slot leases (losses reported at once), and the reaping of dead nodes' runs. It claims
 * nothing while the database is unreachable or after it has been fenced: a tick it cannot claim
 * is a tick it does not run.
 */
export class ClusterNode {
  readonly me: Owner
  readonly leases = new LeaseBook()
  private timer?: TimerHandle
  private skewMs: number | null = null
  private isFenced = false
  private stopped = false
  private beating?: Promise<void>

  private constructor(
    readonly db: ClusterDb,
    private readonly options: ClusterNodeOptions,
    incarnation: string,
    private hash: string,
  ) {
    this.me = {node: options.settings.node, incarnation}
  }

  static async start(options: ClusterNodeOptions): Promise<JoinedNode> {
    const leaseMs = options.settings.lease / NS.ms
    const db = new ClusterDb({url: options.settings.url, clock: options.clock, logger: options.logger, timeoutMs: Math.max(1000, leaseMs / 3)})
    try {
      await migrate(db)
      const incarnation = newIncarnation()
      const identity: NodeIdentity = {...options.identity, name: options.settings.node, incarnation}
      const joined = await joinCluster(db, identity, leaseMs)
      const node = new ClusterNode(db, options, incarnation, identity.configHash)
      const orphans = joined.previousIncarnation ? await db.transaction((sql) => endPreviousIncarnation(sql, node.me, joined.previousIncarnation!)) : []
      const firstSeen = await registerTasks(db, options.units)
      options.logger.info('cluster.joined', {node: node.me.node, url: db.shownUrl, orphans: orphans.length, starts_cluster: joined.startsCluster})
      node.arm()
      return {node, orphans, firstSeen, startsCluster: joined.startsCluster}
    } catch (error) {
      await db.close()
      throw error
    }
  }

  get leaseMs(): number {
    return this.options.settings.lease / NS.ms
  }

  /** Able to claim work: the database answers and the name is still ours. */
  get healthy(): boolean {
    return this.db.healthy && !this.isFenced && !this.stopped
  }

  get fenced(): boolean {
    return this.isFenced
  }

  /** The hash of the config this node runs; after a reload, published from the next heartbeat on. */
  get configHash(): string {
    return this.hash
  }

  set configHash(hash: string) {
    this.hash = hash
  }

  /** True only when this node claimed the tick; false when another did, or when it cannot tell. */
  async claimTick(task: string, scheduledAt: number): Promise<boolean> {
    if (!this.healthy) return false
    try {
      return await claimTick(this.db, task, scheduledAt, this.me.node)
    } catch (error) {
      if (error instanceof ClusterUnavailable) return false
      throw error
    }
  }

  /** Runs one beat now (tests, and the engine after the database comes back). */
  beat(): Promise<void> {
    this.beating ??= this.doBeat().finally(() => (this.beating = undefined))
    return this.beating
  }

  /** A clean stop: no more beats, leases released by expiring them now, the node marked left. */
  async stop(): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    await this.beating
    try {
      if (this.db.healthy && !this.isFenced) {
        await this.db.query("UPDATE sched.slots SET node = NULL, incarnation = NULL, expires_at = now() WHERE node = $1 AND incarnation = $2", [this.me.node, this.me.incarnation])
        await leaveCluster(this.db, this.me)
      }
    } catch (error) {
      this.options.logger.warn('cluster.leave_failed', {error: errorMessage(error)})
    } finally {
      await this.db.close()
    }
  }

  private arm(): void {
    if (this.stopped) return
    // At a fixed rate: a slow beat must not push the next renewal later (a beat still under
    // way is not started twice).
    this.timer = this.options.clock.setTimer(Math.max(100, Math.floor(this.leaseMs / 3)), () => {
      void this.beat()
      this.arm()
    })
  }

  private async doBeat(): Promise<void> {
    if (!this.db.healthy || this.isFenced || this.stopped) return
    const {clock, events, logger} = this.options
    try {
      // Slot leases first: what a late renewal costs is instances stopped (lease-verdict.ts).
      const sent = clock.now()
      const lost = this.leases.renewed(await renewSlots(this.db, this.me, this.leaseMs), sent)
      if (lost.length) events.leasesLost(lost)
      const beat = await heartbeat(this.db, this.me, {leaseMs: this.leaseMs, configHash: this.hash, skewMs: this.skewMs}, () => clock.now())
      if (!beat.ok) {
        this.isFenced = true
        logger.error('cluster.fenced', {node: this.me.node, reason: 'the node name now belongs to another incarnation'})
        events.fenced()
        return
      }
      this.skewMs = beat.skewMs
      const reaped = await this.db.transaction((sql) => reapDeadNodes(sql, this.me))
      if (reaped.length) {
        for (const r of reaped) logger.warn('cluster.node_dead', {node: r.node, crashed: r.crashed.length, requeued: r.requeued.length})
        events.reaped(reaped)
      }
    } catch (error) {
      // Unreachable: the database logged it once and probes; the lease book lets go on its own time.
      if (!(error instanceof ClusterUnavailable)) logger.error('cluster.beat_failed', {error: errorMessage(error)})
    }
  }
}
