import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {type Config, type ConfigIssue, type LoadOptions, loadConfigFile} from '../config/load.js'
import type {SuppliedParams} from '../config/parameters.js'
import {TaskJsonTemplate} from '../config/task-json.js'
import {scheduleFor} from '../cron/schedule.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {Logger} from '../core/logger.js'
import type {TriggerSource, Unit} from '../core/types.js'
import type {StateLayout} from '../state/layout.js'
import {type RunRecord, publicRun} from '../state/run-record.js'
import {RunStore} from '../state/runs.js'
import {UnitBooks} from '../state/unit-books.js'
import {missedMessage, planCatchUp} from './catch-up.js'
import {diffConfigs} from './config-diff.js'
import {Executor, type TriggerResult} from './executor.js'
import {JitterGate} from './jitter-gate.js'
import {NextRuns} from './next-runs.js'
import {recoverRuns} from './recovery.js'
import {Metrics} from './metrics.js'
import {RunIndex} from './run-index.js'
import {RunLifecycle, iso} from './run-lifecycle.js'
import {type ServiceState, Supervisor} from './supervisor.js'
import {applyRetention, planRetention, runSizes} from './retention.js'
import {type DueTick, Scheduler, type ScheduledUnit} from './scheduler.js'

const RETENTION_EVERY_MS = 3_600_000

export interface DaemonOptions {
  readonly config: Config
  readonly layout: StateLayout
  readonly clock: Clock
  readonly logger: Logger
  /** When the daemon started (the claim's time): `@every` schedules count from it. */
  readonly startedAt: number
  readonly env?: NodeJS.ProcessEnv
  /** How the config was loaded, so that a reload reads it the same way. */
  readonly loadOptions?: LoadOptions
}

/** What GET /api/tasks/{name} adds to the task object. */
export interface UnitState {
  readonly status: string
  readonly active_runs: number
  readonly queued: number
  readonly instances: ServiceState['instances']
}

export type ReloadResult =
  | {readonly ok: true; readonly added: string[]; readonly removed: string[]; readonly changed: string[]}
  | {readonly ok: false; readonly message: string; readonly errors: readonly ConfigIssue[]}

export type ControlResult =
  | {readonly ok: true; readonly action: string; readonly unit?: string; readonly runs?: readonly string[]; readonly state?: ServiceState}
  | {readonly ok: false; readonly error: 'unknown' | 'forbidden' | 'conflict'; readonly message: string}

function forbidden(unit: Unit): ControlResult {
  return {ok: false, error: 'forbidden', message: `service "${unit.name}" has api_trigger = false: it cannot be stopped, started or restarted by hand`}
}

/**
 * The engine, composed in one place: the units of the loaded config, the scheduler, the
 * jitter gate, the executor and the bookkeeping. The HTTP API and the CLI request watcher call
 * its methods; it never exits the process.
 */
export class Daemon {
  readonly startedAt: number
  readonly store: RunStore
  readonly runs: RunLifecycle
  readonly executor: Executor
  readonly supervisor: Supervisor
  readonly index = new RunIndex()
  readonly metrics = new Metrics()
  private readonly books: UnitBooks
  private readonly scheduler: Scheduler
  private readonly gate: JitterGate
  private config: Config
  private units = new Map<string, Unit>()
  private templates = new Map<string, TaskJsonTemplate>()
  private nextRuns!: NextRuns
  private retentionTimer?: TimerHandle
  private sweeping?: Promise<void>
  private booting?: Promise<void>
  private configHash = ''
  private tasksCache?: {body: Buffer; until: number}

  constructor(private readonly options: DaemonOptions) {
    const {clock, logger, layout} = options
    this.startedAt = options.startedAt
    this.config = options.config
    this.store = new RunStore(layout, (path, problem, movedTo) => logger.error('state.corrupt', {path, problem, moved_to: movedTo}))
    this.books = new UnitBooks(layout, (path, error) => logger.error('state.write_failed', {path, error}))
    this.gate = new JitterGate(clock)
    this.runs = new RunLifecycle({
      clock,
      logger,
      store: this.store,
      layout,
      daemonEnv: options.env ?? process.env,
      secrets: (name) => this.config.secrets.get(name) ?? {},
      shutdownTimeout: () => this.config.daemon.shutdown_timeout,
    })
    this.executor = new Executor({clock, runs: this.runs, unit: (name) => this.units.get(name)})
    this.supervisor = new Supervisor({clock, logger, runs: this.runs})
    // Readers without a daemon connection (sched list, sched status) see services through the books.
    this.supervisor.on('service.state', (name: string, state?: ServiceState) => {
      if (state) this.books.update(name, clock.now(), {service: state})
    })
    // Every SSE client listens here; their number is bounded by connections, not by a constant.
    this.runs.setMaxListeners(0)
    this.supervisor.setMaxListeners(0)
    this.supervisor.on('service.restart', (name: string) => this.metrics.restarted(name))
    this.runs.on('run.created', (record: RunRecord) => this.index.upsert(record))
    this.runs.on('run.started', (record: RunRecord) => this.metrics.started(record))
    this.runs.on('run.ended', (record: RunRecord) => {
      this.index.upsert(record)
      this.metrics.ended(record)
    })
    this.scheduler = new Scheduler(clock, (due) => this.onTick(due))
    this.adopt(options.config)
    this.configHash = fileHash(options.config.path)
  }

  private adopt(config: Config): void {
    this.tasksCache = undefined
    this.config = config
    this.units = new Map(config.units.map((u) => [u.name, u]))
    this.templates = new Map(config.units.map((u) => [u.name, new TaskJsonTemplate(u)]))
    this.nextRuns = new NextRuns(config.units, config.schedules, this.startedAt)
  }

  get stateDir(): string {
    return this.options.layout.root
  }

  get currentConfig(): Config {
    return this.config
  }

  unit(name: string): Unit | undefined {
    return this.units.get(name)
  }

  /** Boot (SPEC §7): crashed runs, retention, catch-up, run_on_start, the queue, the schedule. */
  async start(): Promise<void> {
    const {clock, logger} = this.options
    const now = clock.now()
    this.books.load((path, problem) => logger.error('state.corrupt', {path, problem}))
    const entries = this.store.listAll()
    const recovered = await recoverRuns(this.store, entries.filter((e) => e.state === 'active'), now, logger)
    this.index.load(entries)
    // Runs the dead daemon left behind end now: told like any other end (index, metrics, notifications).
    for (const record of recovered.crashed) this.runs.emit('run.ended', record)
    await this.sweep()

    // Anchors are read before any boot-time run exists, so a run_on_start run cannot hide a gap.
    const anchors = new Map<string, number | undefined>()
    for (const unit of this.cronTasks()) {
      const book = this.books.get(unit.name)
      anchors.set(unit.name, book ? Date.parse(book.last_tick ?? book.first_seen) : undefined)
      this.books.ensure(unit.name, now)
    }
    // Runs that waited in a queue are older than anything created now: they go first.
    for (const {record, entry} of recovered.pending) this.executor.resume(record, entry)
    for (const unit of this.cronTasks()) {
      const anchor = anchors.get(unit.name)
      if (anchor !== undefined) await this.catchUp(unit, anchor, now)
    }
    for (const unit of this.config.units) {
      if (unit.kind === 'task' && unit.run_on_start) void this.executor.trigger({unit: unit.name, source: 'startup'})
    }
    // Catch-up took the ticks before now; a tick at exactly now is the scheduler's.
    this.scheduler.start(this.scheduledUnits(now - 1))
    this.retentionTimer = this.everyHour()
    // Services wait for their dependencies' health; the API must not wait for that.
    this.booting = this.supervisor.boot(this.config.units)
    logger.info('daemon.start', {units: this.config.units.length, crashed_runs: recovered.crashed.length, resumed_runs: recovered.pending.length})
  }

  /**
   * Shutdown (SPEC §7): no new ticks; task runs and services (dependents first) stopped with
   * their ladders within shutdown_timeout; queued runs stay pending for the next boot.
   */
  async stop(): Promise<void> {
    this.scheduler.stop()
    this.gate.clear()
    this.retentionTimer?.cancel()
    const timeout = this.config.daemon.shutdown_timeout / NS.ms
    await Promise.all([this.executor.shutdown(timeout), this.supervisor.shutdown(timeout)])
    await this.booting
    await this.sweeping
    await this.runs.flush()
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
  async reload(): Promise<ReloadResult> {
    const loaded = loadConfigFile(this.config.path, this.options.loadOptions)
    if (!loaded.ok) return {ok: false, message: `${this.config.path} has ${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'}; nothing changed`, errors: loaded.errors}
    const next = loaded.config
    const diff = diffConfigs(this.config, next)
    if (!diff.ok) return {ok: false, message: diff.message, errors: []}
    const {added, removed, changed} = diff
    const now = this.options.clock.now()

    this.adopt(next)
    this.configHash = fileHash(next.path)
    for (const name of added) this.books.ensure(name, now)
    this.scheduler.set(this.scheduledUnits(now))
    for (const name of removed) this.executor.dropQueue(name, 'its task was removed from the config by a reload')
    for (const name of changed) {
      const unit = this.units.get(name)!
      if (unit.kind === 'task') this.executor.redefine(unit)
    }
    void this.supervisor.reload(next.units, new Set(changed))
    this.options.logger.info('daemon.reload', {added: added.length, removed: removed.length, changed: changed.length})
    return {ok: true, added, removed, changed}
  }

  /** True when the config file on disk is not the one loaded (a reload would change something). */
  configStale(): boolean {
    return fileHash(this.config.path) !== this.configHash
  }

  /** GET /metrics: counters since start, gauges read now. */
  metricsText(): string {
    const active = new Map<string, number>()
    const queued = new Map<string, number>()
    const fatal = new Map<string, number>()
    for (const unit of this.config.units) {
      if (unit.kind === 'task') {
        const o = this.executor.occupancy(unit.name)
        active.set(unit.name, o.active)
        queued.set(unit.name, o.queued)
      } else {
        const instances = this.supervisor.state(unit.name)?.instances ?? []
        active.set(unit.name, instances.filter((i) => i.run_id !== null).length)
        fatal.set(unit.name, instances.filter((i) => i.status === 'fatal').length)
      }
    }
    return this.metrics.render({active, queued, fatal}, process.memoryUsage(), this.startedAt)
  }

  /**
   * Lifecycle events for GET /api/events: run.created, run.started, run.ended (the run) and
   * service.state ({name, status, instances}). Returns the unsubscribe function.
   */
  onEvent(listener: (event: string, data: unknown) => void): () => void {
    const forRun = (event: string) => (record: RunRecord) => listener(event, publicRun(record))
    const handlers = [['run.created', forRun('run.created')], ['run.started', forRun('run.started')], ['run.ended', forRun('run.ended')]] as const
    for (const [event, fn] of handlers) this.runs.on(event, fn)
    const onService = (name: string, state?: ServiceState) => {
      if (state) listener('service.state', {name, ...state})
    }
    this.supervisor.on('service.state', onService)
    return () => {
      for (const [event, fn] of handlers) this.runs.off(event, fn)
      this.supervisor.off('service.state', onService)
    }
  }

  /** Calls `fn` once when the run ends. Returns the unsubscribe function. */
  onRunEnded(id: string, fn: () => void): () => void {
    const listener = (record: RunRecord) => {
      if (record.id !== id) return
      this.runs.off('run.ended', listener)
      fn()
    }
    this.runs.on('run.ended', listener)
    return () => this.runs.off('run.ended', listener)
  }

  /** Resolves when the run has ended, or after `limitMs`. */
  async waitForEnd(id: string, limitMs: number): Promise<void> {
    const run = this.runs.get(id)
    if (!run) return
    let timer: TimerHandle | undefined
    await Promise.race([this.runs.ended(run), new Promise<void>((resolve) => (timer = this.options.clock.setTimer(limitMs, resolve)))])
    timer?.cancel()
  }

  /** The record of a run: from memory while it is live, else from disk. */
  async runRecord(id: string): Promise<RunRecord | undefined> {
    const live = this.runs.get(id)
    if (live) return live.record
    const entry = this.index.find(id)
    return entry ? this.store.read(entry) : undefined
  }

  trigger(name: string, source: TriggerSource, params?: SuppliedParams): Promise<TriggerResult> {
    return this.executor.trigger({unit: name, source, params})
  }

  /**
   * `sched stop` / POST …/stop: a run id stops that run; a task name stops its active and
   * queued runs; a service stops every instance and stays stopped until started again.
   * Resolves once what was stopped has ended.
   */
  async stopTarget(target: string): Promise<ControlResult> {
    if (this.units.has(target)) return this.stopUnit(target)
    return this.stopRun(target)
  }

  /** Stops one run with its ladder (a queued one ends without starting). */
  async stopRun(id: string): Promise<ControlResult> {
    const run = this.runs.get(id)
    if (!run || run.record.status === 'ended') {
      const onDisk = this.store.findById(id)
      if (onDisk) return {ok: false, error: 'conflict', message: `run ${id} is not running (${onDisk.state === 'active' ? 'pending' : onDisk.state})`}
      return {ok: false, error: 'unknown', message: `no task, service or run named "${id}"`}
    }
    if (run.record.kind === 'task') {
      this.executor.stopRun(id)
      await this.runs.ended(run)
      return {ok: true, action: 'stopped', runs: [id]}
    }
    const unit = this.units.get(run.record.task_name)
    if (unit && !unit.api_trigger) return forbidden(unit)
    // One instance of a service: it is cycled, the service keeps its instances.
    if (!(await this.supervisor.cycleInstance(run.record.task_name, id))) {
      this.runs.requestStop(run, 'operator')
      await this.runs.ended(run)
    }
    return {ok: true, action: 'restarted_instance', unit: run.record.task_name, runs: [id]}
  }

  /** A task's active and queued runs, or every instance of a service (which stays stopped). */
  async stopUnit(name: string): Promise<ControlResult> {
    const unit = this.units.get(name)
    if (!unit) return {ok: false, error: 'unknown', message: `no task or service named "${name}"`}
    if (unit.kind === 'service') {
      if (!unit.api_trigger) return forbidden(unit)
      await this.supervisor.stop(unit.name)
      return {ok: true, action: 'stopped', unit: unit.name, state: this.supervisor.state(unit.name)}
    }
    const ids = this.executor.stopTask(unit.name)
    await Promise.all(ids.map((id) => this.runs.get(id)).filter((r) => r !== undefined).map((r) => this.runs.ended(r)))
    return {ok: true, action: ids.length ? 'stopped' : 'nothing_running', unit: unit.name, runs: ids}
  }

  /** `sched start`: a stopped, FATAL or autostart = false service comes up (FATAL cleared). */
  startService(name: string): ControlResult {
    const unit = this.units.get(name)
    if (!unit) return {ok: false, error: 'unknown', message: `no service named "${name}"`}
    if (unit.kind !== 'service') return {ok: false, error: 'conflict', message: `"${name}" is a task; tasks start with sched trigger`}
    if (!unit.api_trigger) return forbidden(unit)
    const done = this.supervisor.start(name)
    return {ok: true, action: done === 'running' ? 'already_running' : 'started', unit: name, state: this.supervisor.state(name)}
  }

  /** `sched restart`: every instance of a service cycled with its stop ladder. */
  async restartService(name: string): Promise<ControlResult> {
    const unit = this.units.get(name)
    if (!unit) return {ok: false, error: 'unknown', message: `no service named "${name}"`}
    if (unit.kind !== 'service') return {ok: false, error: 'conflict', message: `"${name}" is a task; restart applies to services`}
    if (!unit.api_trigger) return forbidden(unit)
    await this.supervisor.restart(name)
    return {ok: true, action: 'restarted', unit: name, state: this.supervisor.state(name)}
  }

  /**
   * The body of GET /api/tasks: every unit, sorted by name, serialised from cached fragments.
   * The whole body only changes when some next_run_at passes (or on reload), so it is kept,
   * encoded, until then.
   */
  tasksBody(): Buffer {
    const now = this.options.clock.now()
    if (this.tasksCache && now < this.tasksCache.until) return this.tasksCache.body
    let until = Infinity
    const parts: string[] = []
    for (const unit of this.config.units) {
      const next = this.nextRunAt(unit.name)
      if (next !== undefined && next < until) until = next
      parts.push(this.templates.get(unit.name)!.render(next))
    }
    this.tasksCache = {body: Buffer.from(`[${parts.join(',')}]`), until}
    return this.tasksCache.body
  }

  /** The body of GET /api/tasks/{name}: the task object plus its live state. */
  taskJson(name: string): string | undefined {
    const unit = this.units.get(name)
    if (!unit) return undefined
    const task = this.templates.get(name)!.render(this.nextRunAt(name))
    return `${task.slice(0, -1)},"state":${JSON.stringify(this.unitState(unit))}}`
  }

  unitState(unit: Unit): UnitState {
    if (unit.kind === 'service') {
      const state = this.supervisor.state(unit.name) ?? {status: 'stopped', instances: []}
      return {status: state.status, active_runs: state.instances.filter((i) => i.run_id !== null).length, queued: 0, instances: state.instances}
    }
    const {active, queued} = this.executor.occupancy(unit.name)
    return {status: active > 0 ? 'running' : queued > 0 ? 'queued' : 'idle', active_runs: active, queued, instances: []}
  }

  /** The next tick of a task that will run (cron tasks; `@every` ones count from the daemon's start). */
  nextRunAt(name: string): number | undefined {
    return this.nextRuns.nextRunAt(name, this.options.clock.now())
  }

  private cronTasks(): Unit[] {
    return this.config.units.filter((u) => u.kind === 'task' && this.config.schedules.has(u.name))
  }

  private scheduledUnits(after: number): ScheduledUnit[] {
    return this.cronTasks().map((unit) => ({unit, schedule: scheduleFor(this.config.schedules.get(unit.name)!, unit.timezone, this.startedAt), after}))
  }

  /** Missed ticks (SPEC §4.3): one `missed` record, then the catch-up runs the policy asks for. */
  private async catchUp(unit: Unit, anchor: number, now: number): Promise<void> {
    const spec = this.config.schedules.get(unit.name)!
    // @every counted from the previous daemon's start; its last tick carries that rhythm.
    const schedule = scheduleFor(spec, unit.timezone, anchor)
    const plan = planCatchUp(schedule, anchor, now, unit.catch_up, unit.max_catch_up_runs)
    if (plan.missed === 0 || plan.latestMissed === undefined) return
    this.books.update(unit.name, now, {last_tick: iso(plan.latestMissed)})
    await this.runs.recordEnded(unit, 'cron', 'missed', {scheduledAt: plan.latestMissed, message: missedMessage(plan)})
    this.options.logger.warn('task.missed', {task: unit.name, ticks: plan.missed, catch_up: unit.catch_up})
    for (const at of plan.runs) void this.executor.trigger({unit: unit.name, source: 'catch_up', scheduledAt: at})
  }

  private onTick({unit, tick, coalesced}: DueTick): void {
    const {clock} = this.options
    this.books.update(unit.name, clock.now(), {last_tick: iso(tick.at)})
    if (tick.kind === 'dst_skipped') {
      void this.runs.recordEnded(unit, 'cron', 'dst_skipped', {scheduledAt: tick.at, message: 'repeated wall-clock time on a DST fall-back day; the first occurrence ran'})
      return
    }
    const message = coalesced > 0 ? `${coalesced} earlier tick${coalesced === 1 ? '' : 's'} came due at the same time (suspend or clock jump) and ${coalesced === 1 ? 'was' : 'were'} folded into this run` : undefined
    if (unit.jitter === 0) {
      void this.executor.trigger({unit: unit.name, source: 'cron', scheduledAt: tick.at, message})
      return
    }
    this.gate.enter(tick.at + unit.jitter / NS.ms, (pass) => {
      let released = !pass.holds
      const release = () => {
        if (released) return
        released = true
        this.gate.release()
      }
      // The gate is held while the run executes; a run that did not start frees it at once.
      void this.executor.trigger({unit: unit.name, source: 'cron', scheduledAt: tick.at, message, onSettled: release}).then((r) => {
        if (!r.ok || r.outcome !== 'started') release()
      })
    })
  }

  private everyHour(): TimerHandle {
    return this.options.clock.setTimer(RETENTION_EVERY_MS, () => {
      void this.sweep().finally(() => {
        this.retentionTimer = this.everyHour()
      })
    })
  }

  /** Retention (SPEC §7): at boot and hourly, oldest finished runs first. */
  private sweep(): Promise<void> {
    this.sweeping = (async () => {
      const {logger, clock} = this.options
      try {
        const entries = this.index.all()
        const sizes = this.config.daemon.max_storage > 0 ? await runSizes(this.store, entries) : undefined
        const doomed = planRetention(entries, {units: this.units, maxStorage: this.config.daemon.max_storage}, clock.now(), sizes)
        await applyRetention(this.store, doomed)
        this.index.remove(new Set(doomed.map((e) => e.id)))
        if (doomed.length) logger.info('retention.sweep', {deleted_runs: doomed.length})
      } catch (error) {
        logger.error('retention.failed', {error: (error as Error).message})
      }
    })()
    return this.sweeping
  }
}


function fileHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex')
  } catch {
    return ''
  }
}
