import {EventEmitter} from 'node:events'
import type {Config} from '../config/load.js'
import {type SuppliedParams, resolveParams} from '../config/parameters.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import {describeWriteError, errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {EndReason, TriggerSource, Unit} from '../core/types.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import {type RunEntry, entryOf} from '../state/runs.js'
import {admit} from './admission.js'
import {retryDelayMs} from './backoff.js'
import {admitInCluster} from './cluster-admission.js'
import type {ClusterPort} from './cluster-port.js'
import type {StopCause} from './end-reason.js'
import {type Refusal, type TriggerOutcome, refused} from './outcomes.js'
import {type RecordWriter, Run, type RunContext, type RunEvent, type RunOptions, draftRecord, iso} from './run.js'
import type {Launcher} from './runner/launch.js'

export interface RunOwnerDeps {
  readonly clock: Clock
  readonly logger: Logger
  readonly records: RecordWriter
  readonly launcher: Launcher
  readonly layout: StateLayout
  /** The current definition of a unit (a reload changes it). */
  unit(name: string): Unit | undefined
  secrets(unit: string): Readonly<Record<string, string>>
  /** `[daemon] shutdown_timeout` in ns. */
  shutdownTimeout(): number
  /** In cluster mode: admission, the queue and run records are the cluster's. */
  readonly cluster?: ClusterPort
}

export interface TriggerRequest {
  readonly unit: string
  readonly source: TriggerSource
  readonly params?: SuppliedParams
  /** The cron tick a scheduled run belongs to. */
  readonly scheduledAt?: number
  readonly message?: string
}

/** What a trigger came to: a run admitted (started, queued, or recorded as not started), or refused before any record. */
export type TriggerResult = {readonly ok: true; readonly outcome: TriggerOutcome; readonly run: RunRecord; readonly ended: Promise<RunRecord>} | Refusal

interface TaskRuns {
  readonly active: Map<string, Run>
  readonly queue: Run[]
}

const MANUAL: ReadonlySet<TriggerSource> = new Set(['api', 'cli'])

/**
 * The owner of every run, from admission to its final record. Task runs arrive through
 * trigger() from every source (params resolved before anything is stored), pass one admission
 * (start, queue, skip, terminate), and a failure may come back as a retry admitted like any
 * other run. Service instances are started for the supervisor through startInstance(). Events:
 * run.created, run.started, run.ended (with the record). The daemon and the foreground trigger
 * both build it with createRunOwner().
 */
export class RunOwner extends EventEmitter {
  private readonly live = new Map<string, Run>()
  private readonly tasks = new Map<string, TaskRuns>()
  private readonly retries = new Set<TimerHandle>()
  private readonly ctx: RunContext
  private idleWaiters: (() => void)[] = []
  private closing = false

  constructor(private readonly deps: RunOwnerDeps) {
    super()
    // Every SSE client listens here; their number is bounded by connections, not by a constant.
    this.setMaxListeners(0)
    this.ctx = {
      clock: deps.clock,
      logger: deps.logger,
      records: deps.records,
      launcher: deps.launcher,
      layout: deps.layout,
      node: deps.cluster?.node,
      secrets: (name) => deps.secrets(name),
      shutdownTimeout: () => deps.shutdownTimeout(),
      publish: (event: RunEvent, record: RunRecord) => this.emit(event, record),
      settled: (run) => {
        if (this.live.get(run.id) === run) this.live.delete(run.id)
      },
      discarded: (run) => {
        if (this.live.get(run.id) === run) this.live.delete(run.id)
        this.emit('run.discarded', run.record)
      },
    }
  }

  /** A run still in memory: pending, running, or ended but not yet on disk. */
  get(id: string): Run | undefined {
    return this.live.get(id)
  }

  async trigger(req: TriggerRequest): Promise<TriggerResult> {
    if (this.closing) return refused('closing', 'the daemon is shutting down')
    const unit = this.deps.unit(req.unit)
    if (!unit) return refused('unknown', `no task named "${req.unit}"`)
    if (unit.kind === 'service') return refused('service', `"${unit.name}" is a service; services are kept running, use sched start/stop/restart`)
    if (MANUAL.has(req.source) && !unit.api_trigger) return refused('forbidden', `task "${unit.name}" has api_trigger = false: it runs only on its own schedule`)
    const resolution = resolveParams(unit.parameters, req.params ?? {})
    if (!resolution.ok) return refused('params', resolution.problems.map((p) => p.message).join('; '), resolution.problems)
    // In a cluster the admission stores the run: a start the database then refuses ends the run
    // (start_failed, written when it answers), it does not undo it.
    const run = this.create(unit, req.source, resolution.params, {scheduledAt: req.scheduledAt, message: req.message, refuseUnrecorded: !this.deps.cluster})
    return this.admit(unit, run)
  }

  /** Puts back a run found pending on disk at boot, behind nothing older (ids sort by age). */
  resume(record: RunRecord, entry: RunEntry): void {
    const run = this.adoptPending(record, entry)
    if (!run) return
    this.taskRuns(run.unit.name).queue.push(run)
    this.pump(run.unit.name)
  }

  /** A queued run this node claimed from the cluster's queue: it starts now. */
  startClaimed(record: RunRecord): void {
    // Shutting down: the claim lapses with this node's lease and the run goes back to the queue.
    if (this.closing) return
    const run = this.adoptPending(record, entryOf(record))
    if (!run) return
    this.activate(this.taskRuns(run.unit.name), run)
    void run.start()
  }

  /**
   * A new run's record, not admitted anywhere yet: boot catch-up in a cluster has the cluster
   * admit it with its tick's claim, in one transaction (src/cluster/catch-up-claim.ts).
   */
  draft(unit: Unit, source: TriggerSource, options: {scheduledAt?: number; message?: string}): RunRecord {
    const params = resolveParams(unit.parameters, {})
    // Checked at load: a task that runs on its own has a default for every required parameter.
    if (!params.ok) throw new Error(params.problems.map((p) => p.message).join('; '))
    return draftRecord(unit, source, params.params, options, this.deps.clock.now())
  }

  /** A run the cluster admitted for this node's draft: told, and started here when it is this node's to start. */
  takeAdmitted(record: RunRecord, start: boolean): void {
    this.emit('run.created', record)
    if (start) this.startClaimed(record)
    else if (record.status === 'ended') this.emit('run.ended', record)
  }

  /** False once shutting down: a node then claims no more queued work. */
  get accepting(): boolean {
    return !this.closing
  }

  /**
   * A service instance's run, started now. `launched` resolves once its process runs (or the run
   * ended without one): its health counts from there. `onExit` lets the supervisor decide FATAL
   * before the end reason is written.
   */
  startInstance(unit: Unit, instance: number, onExit: RunOptions['onExit']): {run: Run; launched: Promise<void>} {
    // In a cluster the instance's slot is leased: it must not outlive the daemon that holds the lease.
    const run = this.create(unit, 'service', undefined, {instance, onExit, diesWithDaemon: this.deps.cluster !== undefined})
    return {run, launched: run.start().then(() => run.spawned)}
  }

  /** Records a run that is over before it begins: a `missed` or `dst_skipped` tick. */
  recordEnded(unit: Unit, source: TriggerSource, reason: EndReason, options: {scheduledAt?: number; message: string}): RunRecord {
    const run = this.create(unit, source, undefined, options)
    // Not awaited: a full disk keeps the record in memory until it can be written.
    void run.endUnstarted(reason, options.message)
    return run.record
  }

  /** Stops one run: active runs go down their stop ladder; queued ones end without starting. */
  stopRun(id: string, cause: StopCause = 'operator'): 'stopping' | 'dequeued' | 'not_active' {
    const run = this.live.get(id)
    if (!run || run.isEnded) return 'not_active'
    if (run.record.kind === 'task') {
      const t = this.taskRuns(run.record.task_name)
      const queued = t.queue.indexOf(run)
      if (queued !== -1) {
        t.queue.splice(queued, 1)
        void run.endUnstarted('stopped', cause === 'operator' ? 'stopped by an operator before it started' : 'removed from the queue before it started')
        this.checkIdle()
        return 'dequeued'
      }
    }
    run.stop(cause)
    return 'stopping'
  }

  /** Stops every active and queued run of a task. Returns the ids affected. */
  stopTask(name: string, cause: StopCause = 'operator'): string[] {
    const t = this.tasks.get(name)
    if (!t) return []
    const ids = [...t.queue, ...t.active.values()].map((r) => r.id)
    for (const id of ids) this.stopRun(id, cause)
    return ids
  }

  /**
   * A reload changed the task: its queued runs will run the new definition (runs in flight
   * finish under the old one). A queued run whose parameters no longer fit ends `failed`.
   */
  redefine(unit: Unit): void {
    const t = this.tasks.get(unit.name)
    if (!t) return
    for (const run of [...t.queue]) {
      const params = resolveParams(unit.parameters, run.record.params)
      if (params.ok) {
        run.redefine(unit, params.params)
        continue
      }
      t.queue.splice(t.queue.indexOf(run), 1)
      void run.endUnstarted('failed', `its parameters no longer fit the reloaded task: ${params.problems.map((p) => p.message).join('; ')}`)
    }
    this.pump(unit.name)
  }

  /**
   * Queued runs of a task end `skipped` (the task was removed by a reload); in a cluster, its
   * runs in the cluster's queue. Resolves once they are recorded.
   */
  async dropQueue(name: string, message: string): Promise<void> {
    const t = this.tasks.get(name)
    if (t) for (const run of t.queue.splice(0)) void run.endUnstarted('skipped', message)
    this.checkIdle()
    const {cluster, clock, logger} = this.deps
    if (!cluster) return
    try {
      for (const record of await cluster.dropQueued(name, (r) => endedUnstarted(r, 'skipped', message, clock.now()))) this.emit('run.ended', record)
    } catch (error) {
      // The database could not take it: the runs stay queued, for a node that still defines the
      // task (one that has not reloaded) to run, or for the next reload elsewhere to drop.
      logger.error('cluster.drop_queue_failed', {task: name, error: errorMessage(error)})
    }
  }

  occupancy(name: string): {active: number; queued: number} {
    const t = this.tasks.get(name)
    return {active: t?.active.size ?? 0, queued: t?.queue.length ?? 0}
  }

  /** Resolves once no task run is active, queued or waiting to be retried. */
  whenIdle(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /**
   * Stops every active task run with its ladder and waits up to `timeoutMs`; what is still alive
   * then is killed (`daemon_stopped`). Queued runs stay pending on disk for the next boot.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true
    for (const t of this.retries) t.cancel()
    this.retries.clear()
    const active = [...this.tasks.values()].flatMap((t) => [...t.active.values()])
    for (const run of active) run.stop('shutdown')
    await stopWithin(this.deps.clock, active, timeoutMs)
  }

  /** Resolves when every write issued so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.live.values()].map((r) => r.durable()))
  }

  // ------------------------------------------------------------------------------------------

  private create(unit: Unit, source: TriggerSource, rendered: Run['params'] | undefined, options: RunOptions): Run {
    const run = Run.create(this.ctx, unit, source, rendered, options)
    this.live.set(run.id, run)
    return run
  }

  /** A pending run read back (from disk, or claimed from the cluster's queue), if it can still run. */
  private adoptPending(record: RunRecord, entry: RunEntry): Run | undefined {
    const unit = this.deps.unit(record.task_name)
    if (!unit || unit.kind !== 'task') {
      void this.abandon(record, entry, 'skipped', `its ${unit ? 'unit is now a service' : 'task was removed from the config'}`)
      return undefined
    }
    const params = resolveParams(unit.parameters, record.params)
    if (!params.ok) {
      void this.abandon(record, entry, 'failed', `its parameters no longer fit the task: ${params.problems.map((p) => p.message).join('; ')}`)
      return undefined
    }
    const run = Run.adopt(this.ctx, record, entry, unit, params.params)
    this.live.set(run.id, run)
    return run
  }

  /** Ends a run read back from disk that can no longer run (its task was removed). */
  private async abandon(record: RunRecord, entry: RunEntry, reason: EndReason, message: string): Promise<void> {
    const ended = endedUnstarted(record, reason, message, this.deps.clock.now())
    try {
      await this.deps.records.save(ended, entry)
    } catch (error) {
      this.deps.logger.error('run.write_failed', {run: record.id, error: (error as Error).message})
    }
    this.emit('run.ended', ended)
  }

  private async admit(unit: Unit, run: Run): Promise<TriggerResult> {
    if (this.deps.cluster) return this.admitShared(this.deps.cluster, unit, run)
    const t = this.taskRuns(unit.name)
    const stoppable = [...t.active.values()].filter((r) => !r.stopping).map((r) => r.id)
    const decision = admit(unit, {active: t.active.size, queued: t.queue.length, stoppable})
    const admitted = (outcome: TriggerOutcome, record = run.record): TriggerResult => ({ok: true, outcome, run: record, ended: run.ended})
    switch (decision.action) {
      case 'start': {
        this.activate(t, run)
        const recorded = await run.start()
        return run.discarded ? storageRefusal(run.writeError) : admitted('started', recorded)
      }
      case 'terminate':
      case 'queue':
        // Recorded before it is queued: a queued run the disk refused would be half-made.
        if (!(await run.persistNow())) {
          run.discard()
          return storageRefusal(run.writeError)
        }
        t.queue.push(run)
        if (decision.action === 'terminate' && decision.victim) this.stopRun(decision.victim, 'terminate')
        this.pump(unit.name)
        return admitted('queued')
      case 'skip':
      case 'queue_full': {
        const reason = decision.action === 'skip' ? 'skipped' : 'queue_full'
        if (!(await run.endUnstartedOrDiscard(reason, decision.message))) return storageRefusal(run.writeError)
        return admitted(reason)
      }
    }
  }

  /**
   * In a cluster: the run starts here, or waits in the cluster's queue for whichever node claims
   * it, or is recorded not started; a refusal leaves no run.
   */
  private async admitShared(cluster: ClusterPort, unit: Unit, run: Run): Promise<TriggerResult> {
    const admitted = await admitInCluster(cluster, unit, run.record, (record, reason, message) => endedUnstarted(record, reason, message, this.deps.clock.now()))
    if (admitted.action === 'start') {
      this.activate(this.taskRuns(unit.name), run)
      return {ok: true, outcome: 'started', run: await run.start(), ended: run.ended}
    }
    // Nothing of it stays here: refused, ended, or the cluster's to start on whichever node claims it.
    run.discard()
    switch (admitted.action) {
      case 'refused':
        return admitted.refusal
      case 'queued':
        // Its end is told on the node that runs it, never here.
        return {ok: true, outcome: 'queued', run: admitted.run, ended: new Promise<RunRecord>(() => {})}
      default:
        this.emit('run.ended', admitted.run)
        return {ok: true, outcome: admitted.action, run: admitted.run, ended: Promise.resolve(admitted.run)}
    }
  }

  /** Runs `run` in a free slot: when it ends the slot frees, a retry may follow, the queue moves. */
  private activate(t: TaskRuns, run: Run): void {
    t.active.set(run.id, run)
    void run.ended.then((record) => {
      t.active.delete(run.id)
      this.scheduleRetry(run, record)
      this.pump(run.unit.name)
      this.checkIdle()
    })
  }

  /** Starts queued runs while there are free slots. */
  private pump(name: string): void {
    const t = this.tasks.get(name)
    if (!t || this.closing) return
    const unit = this.deps.unit(name)
    const max = unit?.max_concurrent ?? 1
    while (t.active.size < max && t.queue.length) {
      const run = t.queue.shift()!
      this.activate(t, run)
      void run.start()
    }
    // Under "terminate" a waiting run never waits for a run to end on its own: each one beyond
    // the runs already being stopped stops the oldest run still going.
    if (unit?.on_overlap === 'terminate') {
      const active = [...t.active.values()]
      let owed = t.queue.length - active.filter((r) => r.stopping).length
      for (const run of active) {
        if (owed <= 0) break
        if (run.stopping) continue
        run.stop('terminate')
        owed--
      }
    }
  }

  private scheduleRetry(run: Run, record: RunRecord): void {
    const unit = this.deps.unit(run.unit.name) ?? run.unit
    const attempt = record.retry_attempt + 1
    const reason = record.end_reason
    const retryable = reason === 'failed' || reason === 'timeout' || reason === 'log_overflow'
    if (!retryable || this.closing || attempt > unit.retry_attempts || unit.kind !== 'task') return
    const delay = retryDelayMs(unit.retry_delay / NS.ms, unit.retry_backoff, attempt)
    const timer = this.deps.clock.setTimer(delay, () => {
      this.retries.delete(timer)
      const current = this.deps.unit(unit.name)
      if (!current || current.kind !== 'task' || this.closing) return this.checkIdle()
      // Retries reuse the resolved values; they render with the task as it is now.
      const params = resolveParams(current.parameters, record.params)
      const next = this.create(current, record.triggered_by, params.ok ? params.params : run.params, {
        scheduledAt: record.scheduled_at ? Date.parse(record.scheduled_at) : undefined,
        retryOf: record,
      })
      void this.admit(current, next)
    })
    this.retries.add(timer)
  }

  /** Task runs active or queued, and retries waiting for their delay. */
  private busy(): number {
    let n = this.retries.size
    for (const t of this.tasks.values()) n += t.active.size + t.queue.length
    return n
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.busy() > 0) return
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  private taskRuns(name: string): TaskRuns {
    let t = this.tasks.get(name)
    if (!t) this.tasks.set(name, (t = {active: new Map(), queue: []}))
    return t
  }
}

/** The final record of a run that ends without starting. */
export function endedUnstarted(record: RunRecord, reason: EndReason, message: string, now: number): RunRecord {
  return {...record, status: 'ended', end_reason: reason, ended_at: iso(now), duration_ms: 0, message}
}

/** A trigger whose first record the disk refused: nothing was created. */
function storageRefusal(error: unknown): Refusal {
  return refused('storage', `cannot record the run, so it was not started: writing its record failed: ${describeWriteError(error)}; free space in the state directory, then try again`)
}

/**
 * Waits for runs already told to stop; what is still alive after `timeoutMs` is killed and ends
 * `daemon_stopped`.
 */
async function stopWithin(clock: Clock, runs: readonly Run[], timeoutMs: number): Promise<void> {
  const all = Promise.all(runs.map((r) => r.ended))
  let timer: TimerHandle | undefined
  const expired = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = clock.setTimer(timeoutMs, () => r(true))))])
  timer?.cancel()
  if (expired) for (const run of runs) run.kill()
  await all
}

export interface RunOwnerSetup {
  readonly clock: Clock
  readonly logger: Logger
  readonly layout: StateLayout
  readonly store: RecordWriter
  readonly launcher: Launcher
  /** The config as it is now (a reload replaces it). */
  config(): Config
  unit(name: string): Unit | undefined
  readonly cluster?: ClusterPort
}

/** The one way to build a run owner: the daemon and the foreground trigger both use it. */
export function createRunOwner(setup: RunOwnerSetup): RunOwner {
  return new RunOwner({
    clock: setup.clock,
    logger: setup.logger,
    records: setup.cluster?.records ?? setup.store,
    launcher: setup.launcher,
    layout: setup.layout,
    unit: (name) => setup.unit(name),
    secrets: (name) => setup.config().secrets.get(name) ?? {},
    shutdownTimeout: () => setup.config().daemon.shutdown_timeout,
    cluster: setup.cluster,
  })
}
