import {ClusterUnavailable} from '../cluster/unavailable.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import type {RecordJournal} from '../state/record-journal.js'
import type {RunStore} from '../state/runs.js'
import type {UnitBooks} from '../state/unit-books.js'
import type {ClusterPort} from './cluster-port.js'
import {retentionRules, sweepCluster} from './cluster-retention.js'
import {applyRetention, planRetention, runSizes} from './retention.js'
import type {RunView} from './run-view.js'

const EVERY_MS = 3_600_000

export interface SweepDeps {
  readonly clock: Clock
  readonly logger: Logger
  readonly store: RunStore
  readonly journal: RecordJournal
  /** Catch-up anchors: a tick's record may be deleted only once its unit's book says so. */
  readonly books: Pick<UnitBooks, 'flush'>
  readonly view: RunView
  /** Cluster mode: run records are the cluster's, pruned there; this node deletes its logs of the runs gone. */
  readonly cluster?: ClusterPort
  /** The current units and max_storage (a reload changes them). */
  policy(): {units: ReadonlyMap<string, Unit>; maxStorage: number}
}

/** Retention (SPEC §7): at boot and every hour, oldest finished runs first; in a cluster, its records too. */
export class RetentionSweep {
  private timer?: TimerHandle
  private running?: Promise<void>
  private stopped = false

  constructor(private readonly deps: SweepDeps) {}

  sweep(): Promise<void> {
    this.running = this.once()
    return this.running
  }

  /** Sweeps every hour from now on. */
  schedule(): void {
    if (this.stopped) return
    this.timer = this.deps.clock.setTimer(EVERY_MS, () => void this.sweep().finally(() => this.schedule()))
  }

  /** No more sweeps; resolves when the one under way, if any, is done. */
  async stop(): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    await this.running
  }

  private async once(): Promise<void> {
    const {logger, clock, store, journal, view, books} = this.deps
    try {
      const {units, maxStorage} = this.deps.policy()
      // In a cluster the state directory holds records only from before the node joined: those
      // are this sweep's; the runs this node ran since are the cluster's (the index has both).
      const {cluster} = this.deps
      const onDisk = cluster ? new Set(store.listAll().map((e) => e.id)) : undefined
      if (cluster && onDisk) await this.sweepCluster(cluster, units, onDisk)
      const entries = onDisk ? view.entries().filter((e) => onDisk.has(e.id)) : view.entries()
      const sizes = maxStorage > 0 ? await runSizes(store, entries) : undefined
      const doomed = planRetention(entries, {units, maxStorage}, clock.now(), sizes)
      if (doomed.length === 0) return
      // A deleted run must not come back from the journal after a crash.
      await Promise.all([journal.checkpoint(), books.flush()])
      await applyRetention(store, doomed)
      view.forget(new Set(doomed.map((e) => e.id)))
      logger.info('retention.sweep', {deleted_runs: doomed.length})
    } catch (error) {
      logger.error('retention.failed', {error: (error as Error).message})
    }
  }

  private async sweepCluster(cluster: ClusterPort, units: ReadonlyMap<string, Unit>, onDisk: ReadonlySet<string>): Promise<void> {
    const {logger, clock, store} = this.deps
    try {
      const swept = await sweepCluster(cluster, store.layout, retentionRules(units, clock.now()), onDisk)
      if (swept.deletedRuns || swept.deletedLogs) logger.info('retention.cluster_sweep', {deleted_runs: swept.deletedRuns, deleted_logs: swept.deletedLogs})
    } catch (error) {
      // Unreachable: the database said so once; the next sweep tries again.
      if (!(error instanceof ClusterUnavailable)) logger.error('retention.failed', {error: errorMessage(error)})
    }
  }
}
