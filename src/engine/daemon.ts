import {EventEmitter} from 'node:events'
import {type Config, type LoadOptions, loadConfigFile} from '../config/load.js'
import {scheduleFor} from '../cron/schedule.js'
import type {Clock} from '../core/clock.js'
import {NS} from '../core/duration.js'
import {errorMessage} from '../core/errors.js'
import {fileHash} from '../core/file-hash.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import {writeCompiledConfig} from '../state/compiled-config.js'
import type {StateLayout} from '../state/layout.js'
import {type DiskHealth, DurableRecords} from '../state/durable-records.js'
import {RecordJournal} from '../state/record-journal.js'
import {RunStore} from '../state/runs.js'
import {UnitBooks} from '../state/unit-books.js'
import {ClusterFeed} from './cluster-feed.js'
import type {ClusterPort} from './cluster-port.js'
import {diffConfigs} from './config-diff.js'
import {Control} from './control.js'
import {CronFires} from './cron-fires.js'
import {JitterGate} from './jitter-gate.js'
import {Metrics} from './metrics.js'
import {NextRuns, scheduledNames} from './next-runs.js'
import {type Refusal, refused} from './outcomes.js'
import {recoverRuns} from './recovery.js'
import {RetentionSweep} from './retention-sweep.js'
import {type RunOwner, createRunOwner} from './run-owner.js'
import {RunView} from './run-view.js'
import type {Launcher} from './runner/launch.js'
import {Scheduler, type ScheduledUnit} from './scheduler.js'
import {type ServiceState, Supervisor} from './supervisor.js'

export interface DaemonOptions {
  readonly config: Config
  readonly layout: StateLayout
  readonly clock: Clock
  readonly logger: Logger
  /** When the daemon started (the claim's time): `@every` schedules count from it. */
  readonly startedAt: number
  /** Starts the runs' processes (spawner processes in the daemon). */
  readonly launcher: Launcher
  /** How the config was loaded, so that a reload reads it the same way. */
  readonly loadOptions?: LoadOptions
  /** Cluster mode (docs/cluster.md): ticks, admission, the queue and run records are shared. */
  readonly cluster?: ClusterPort
}

/** What a reload answers (SPEC §8): what changed, or why nothing did. */
export type ReloadAnswer = {readonly ok: true; readonly added: string[]; readonly removed: string[]; readonly changed: string[]} | Refusal

/**
 * The engine, composed in one place: boot, reload and shutdown. The run owner runs every run,
 * the supervisor keeps services up, the scheduler's ticks become runs through CronFires, and the
 * API and the CLI request watcher reach it through `control` (operator verbs), `view` (runs and
 * events) and `owner.trigger`. It never exits the process.
 */
export class Daemon {
  readonly startedAt: number
  readonly owner: RunOwner
  readonly supervisor: Supervisor
  readonly control: Control
  readonly view: RunView
  readonly metrics = new Metrics()
  /** Cluster mode: the node's link to the cluster (undefined on its own). */
  readonly cluster?: ClusterPort
  private readonly store: RunStore
  private readonly journal: RecordJournal
  private readonly records: DurableRecords
  private readonly books: UnitBooks
  private readonly scheduler: Scheduler
  private readonly gate: JitterGate
  private readonly fires: CronFires
  private readonly retention: RetentionSweep
  private cfg: Config
  private units = new Map<string, Unit>()
  private nextRuns!: NextRuns
  private booting?: Promise<void>
  private slots?: {stop(): void}
  private configHash = ''

  constructor(private readonly options: DaemonOptions) {
    const {clock, logger, layout} = options
    this.startedAt = options.startedAt
    this.cluster = options.cluster
    this.cfg = options.config
    this.store = new RunStore(layout, (path, problem, movedTo) => logger.error('state.corrupt', {path, problem, moved_to: movedTo}))
    this.journal = new RecordJournal(this.store, (what, error) => logger.error('state.write_failed', {what, error: (error as Error).message}))
    this.books = new UnitBooks(layout, (path, error) => logger.error('state.write_failed', {path, error}))
    this.gate = new JitterGate(clock)
    const unit = (name: string) => this.units.get(name)
    const disk = new EventEmitter().setMaxListeners(0)
    this.records = new DurableRecords(this.journal, {clock, logger, onDiskFull: (error) => disk.emit('disk.full', error)})
    this.owner = createRunOwner({clock, logger, layout, store: this.records, launcher: options.launcher, config: () => this.cfg, unit, cluster: options.cluster})
    this.supervisor = new Supervisor({clock, logger, runs: this.owner, placed: options.cluster !== undefined})
    this.control = new Control({owner: this.owner, supervisor: this.supervisor, store: this.store, unit, cluster: options.cluster, now: () => clock.now()})
    this.view = new RunView(this.owner, this.supervisor, this.store, clock, disk, options.cluster)
    this.fires = new CronFires({clock, logger, owner: this.owner, books: this.books, gate: this.gate, cluster: options.cluster})
    this.retention = new RetentionSweep({clock, logger, store: this.store, journal: this.journal, books: this.books, view: this.view, cluster: options.cluster, policy: () => ({units: this.units, maxStorage: this.cfg.daemon.max_storage})})
    this.scheduler = new Scheduler(clock, (due) => void this.fires.tick(due))
    // Readers without a daemon connection (sched list, sched status) see services through the books.
    this.supervisor.on('service.state', (name: string, state?: ServiceState) => state && this.books.update(name, clock.now(), {service: state}))
    this.metrics.watch(this.owner, this.supervisor)
    this.adopt(options.config)
  }

  get config(): Config {
    return this.cfg
  }

  /** Whether run records reach the disk (GET /metrics). */
  diskHealth(): DiskHealth {
    return this.records.health()
  }

  /** The daemon's clock: what "now" is for everything it answers. */
  now(): number {
    return this.options.clock.now()
  }

  get stateDir(): string {
    return this.options.layout.root
  }

  unit(name: string): Unit | undefined {
    return this.units.get(name)
  }

  /** The next tick of a cron task that will run, if any. */
  nextRunAt(unit: Unit): number | undefined {
    return this.nextRuns.nextRunAt(unit.name, this.now())
  }

  /** True when the config file on disk is not the one loaded (a reload would change something). */
  configStale(): boolean {
    return fileHash(this.cfg.path) !== this.configHash
  }

  /** Boot (SPEC §7): crashed runs, retention, catch-up, run_on_start, the queue, the schedule. */
  async start(): Promise<void> {
    const {clock, logger} = this.options
    const now = clock.now()
    this.books.load((path, problem) => logger.error('state.corrupt', {path, problem}))
    const replayed = this.journal.replay()
    if (replayed) logger.warn('state.replayed', {records: replayed})
    const entries = this.store.listAll()
    // Anchors first: from records as the dead daemon left them (recovery renames a cut run's file).
    const anchors = this.fires.anchors(this.cronTasks(), entries, (e) => this.store.readSync(e), now)
    const recovered = await recoverRuns(this.store, this.journal, entries.filter((e) => e.state === 'active'), now, logger)
    this.view.load(entries)
    // Runs the dead daemon left behind end now, told like any other end (run index, metrics, and
    // whoever listens to the run events: notifications report them as run.crashed).
    for (const record of recovered.crashed) this.owner.emit('run.ended', record)
    await this.retention.sweep()

    // Runs that waited in a queue are older than anything created now: they go first.
    for (const {record, entry} of recovered.pending) this.owner.resume(record, entry)
    await this.fires.catchUpAll(this.cronTasks(), this.cfg.schedules, anchors, now, this.startedAt)
    for (const unit of this.cfg.units) {
      if (unit.kind === 'task' && unit.run_on_start && this.options.cluster?.startsCluster !== false) void this.owner.trigger({unit: unit.name, source: 'startup'})
    }
    // Catch-up took the ticks before now; a tick at exactly now is the scheduler's.
    this.scheduler.start(this.scheduledUnits(now - 1))
    if (this.options.cluster) await this.options.cluster.listen(new ClusterFeed({cluster: this.options.cluster, owner: this.owner, logger, unit: (name) => this.units.get(name)}))
    this.retention.schedule()
    // Services wait for their dependencies' health; the API must not wait for that.
    this.booting = this.supervisor.boot(this.cfg.units)
    // In a cluster an instance starts once this node holds its slot's lease.
    this.slots = this.options.cluster?.keepSlots(this.supervisor, () => this.cfg.units)
    logger.info('daemon.start', {units: this.cfg.units.length, crashed_runs: recovered.crashed.length, resumed_runs: recovered.pending.length})
  }

  /**
   * Shutdown (SPEC §7): no new ticks; task runs and services (dependents first) stopped with
   * their ladders within shutdown_timeout; queued runs stay pending for the next boot.
   */
  async stop(): Promise<void> {
    this.scheduler.stop()
    this.slots?.stop()
    this.gate.clear()
    const timeout = this.cfg.daemon.shutdown_timeout / NS.ms
    await Promise.all([this.owner.shutdown(timeout), this.supervisor.shutdown(timeout), this.retention.stop()])
    await this.booting
    // A record the disk or the cluster database still refuses is given up here (logged), not waited for.
    await this.records.close()
    this.options.cluster?.records.close()
    await this.owner.flush()
    await this.journal.close()
    await this.books.flush()
    this.options.logger.info('daemon.stop')
  }

  /**
   * Reload (SPEC §8): the whole file is validated first and nothing changes on an error; a
   * change to [daemon] or [scheduler] needs a restart. Added units are scheduled from now (no
   * catch-up, no run_on_start), removed ones stop being scheduled (their queued runs end
   * `skipped`, running ones finish), changed tasks run the new definition from their next run,
   * changed services restart; an operator-stopped service stays stopped.
   */
  async reload(): Promise<ReloadAnswer> {
    const loaded = loadConfigFile(this.cfg.path, this.options.loadOptions)
    if (!loaded.ok) {
      const n = loaded.errors.length
      return {...refused('invalid', `${this.cfg.path} has ${n} error${n === 1 ? '' : 's'}; nothing changed`), errors: loaded.errors}
    }
    const next = loaded.config
    const diff = diffConfigs(this.cfg, next)
    if (!diff.ok) return refused('invalid', diff.message)
    const {added, removed, changed} = diff
    const now = this.options.clock.now()

    this.adopt(next)
    for (const name of added) this.books.ensure(name, now)
    // The cluster learns the new config's hash; added tasks' `@every` counts from when it first saw them.
    await this.options.cluster?.reloaded(next.units, added).catch((error: unknown) => this.options.logger.error('cluster.register_failed', {units: added.join(' '), error: errorMessage(error)}))
    this.scheduler.set(this.scheduledUnits(now))
    for (const name of removed) await this.owner.dropQueue(name, 'its task was removed from the config by a reload')
    for (const name of changed) {
      const unit = this.units.get(name)!
      if (unit.kind === 'task') this.owner.redefine(unit)
    }
    void this.supervisor.reload(next.units, new Set(changed))
    this.options.logger.info('daemon.reload', {added: added.length, removed: removed.length, changed: changed.length})
    return {ok: true, added, removed, changed}
  }

  private adopt(config: Config): void {
    this.cfg = config
    this.configHash = fileHash(config.path)
    this.units = new Map(config.units.map((u) => [u.name, u]))
    this.nextRuns = new NextRuns(scheduledNames(config.units, config.schedules), this.startedAt)
    writeCompiledConfig(this.options.layout, config, this.nextRuns, this.options.clock.now()).catch((error: unknown) => this.options.logger.warn('state.compiled_config_failed', {error: errorMessage(error)}))
  }

  private cronTasks(): Unit[] {
    return this.cfg.units.filter((u) => u.kind === 'task' && this.cfg.schedules.has(u.name))
  }

  private scheduledUnits(after: number): ScheduledUnit[] {
    // In a cluster `@every` counts from when the cluster first saw the task: every node computes the same ticks.
    const anchor = (name: string) => this.options.cluster?.firstSeen(name) ?? this.startedAt
    return this.cronTasks().map((unit) => ({unit, schedule: scheduleFor(this.cfg.schedules.get(unit.name)!, unit.timezone, anchor(unit.name)), after}))
  }
}

