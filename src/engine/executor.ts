import {EventEmitter} from 'node:events'
import {mkdir} from 'node:fs/promises'
import {type ResolvedParams, type SuppliedParams, type ParamProblem, resolveParams} from '../config/parameters.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {Logger} from '../core/logger.js'
import type {EndReason, TriggerSource, Unit} from '../core/types.js'
import {ulid} from '../core/ulid.js'
import type {StateLayout} from '../state/layout.js'
import {STATE_FORMAT} from '../state/json-file.js'
import type {RunRecord} from '../state/run-record.js'
import type {RunEntry, RunStore} from '../state/runs.js'
import {type Admission, admit} from './admission.js'
import {retryDelayMs} from './backoff.js'
import {type StopCause, endReason} from './end-reason.js'
import {composeEnv} from './env.js'
import {endMessage} from './run-message.js'
import {type Account, resolveAccount} from './runner/accounts.js'
import {Attempt, type AttemptOutcome} from './runner/attempt.js'

export interface ExecutorDeps {
  readonly clock: Clock
  readonly logger: Logger
  readonly store: RunStore
  readonly layout: StateLayout
  readonly daemonEnv: NodeJS.ProcessEnv
  /** The current definition of a unit (config reloads change it). */
  unit(name: string): Unit | undefined
  secrets(name: string): Readonly<Record<string, string>>
  shutdownTimeout(): number
}

export interface TriggerRequest {
  readonly unit: string
  readonly source: TriggerSource
  readonly params?: SuppliedParams
  /** The cron tick a scheduled run belongs to. */
  readonly scheduledAt?: number
  readonly message?: string
  /** Called once the run ends or is refused (the jitter gate's release). */
  readonly onSettled?: () => void
}

export type TriggerRefusal = 'unknown' | 'forbidden' | 'params' | 'service' | 'closing'

export type TriggerResult =
  | {readonly ok: true; readonly outcome: 'started' | 'queued' | 'skipped' | 'queue_full'; readonly run: RunRecord}
  | {readonly ok: false; readonly refusal: TriggerRefusal; readonly message: string; readonly problems?: readonly ParamProblem[]}

/** A run the executor holds in memory: queued or active. */
interface LiveRun {
  record: RunRecord
  entry?: RunEntry
  /** The definition the run started with: a reload changes later runs, not this one. */
  readonly unit: Unit
  readonly rendered: ResolvedParams
  attempt?: Attempt
  stopping?: StopCause
  writes: Promise<void>
  onSettled?: () => void
}

interface UnitRuns {
  readonly active: Map<string, LiveRun>
  readonly queue: LiveRun[]
}

const MANUAL: ReadonlySet<TriggerSource> = new Set(['api', 'cli'])

/**
 * Admission and execution of task runs. Every trigger source arrives through trigger(); params
 * are resolved before anything is stored; the record is on disk as `running` before the spawn;
 * every run reaches exactly one end reason, and a failure may schedule a retry that is admitted
 * like any other run. Emits `run.created`, `run.started`, `run.ended` with the record.
 */
export class Executor extends EventEmitter {
  private readonly runs = new Map<string, UnitRuns>()
  private readonly byId = new Map<string, LiveRun>()
  private readonly retries = new Set<TimerHandle>()
  private closing = false

  constructor(private readonly deps: ExecutorDeps) {
    super()
  }

  async trigger(req: TriggerRequest): Promise<TriggerResult> {
    const refused = (refusal: TriggerRefusal, message: string, problems?: readonly ParamProblem[]): TriggerResult => {
      req.onSettled?.()
      return {ok: false, refusal, message, problems}
    }
    if (this.closing) return refused('closing', 'the daemon is shutting down')
    const unit = this.deps.unit(req.unit)
    if (!unit) return refused('unknown', `no task named "${req.unit}"`)
    if (unit.kind === 'service') return refused('service', `"${unit.name}" is a service; services are kept running, use sched start/stop/restart`)
    if (MANUAL.has(req.source) && !unit.api_trigger) return refused('forbidden', `task "${unit.name}" has api_trigger = false: it runs only on its own schedule`)
    const resolution = resolveParams(unit.parameters, req.params ?? {})
    if (!resolution.ok) return refused('params', resolution.problems.map((p) => p.message).join('; '), resolution.problems)
    return this.admit(unit, this.newRecord(unit, req.source, resolution.params.values, {scheduledAt: req.scheduledAt, message: req.message}), resolution.params, req.onSettled)
  }

  /** Puts back a run found pending on disk at boot, behind nothing older (ids sort by age). */
  resume(record: RunRecord, entry: RunEntry): void {
    const unit = this.deps.unit(record.task_name)
    const live = (rendered: ResolvedParams): LiveRun => ({record, entry, unit: unit!, rendered, writes: Promise.resolve()})
    if (!unit || unit.kind !== 'task') {
      void this.endUnstarted(live({values: record.params, env: {}, args: []}), 'skipped', `its ${unit ? 'unit is now a service' : 'task was removed from the config'}`)
      return
    }
    const resolution = resolveParams(unit.parameters, record.params)
    if (!resolution.ok) {
      void this.endUnstarted(live({values: record.params, env: {}, args: []}), 'failed', `its parameters no longer fit the task: ${resolution.problems.map((p) => p.message).join('; ')}`)
      return
    }
    const run = live(resolution.params)
    this.track(unit.name, run)
    this.unitRuns(unit.name).queue.push(run)
    this.pump(unit.name)
  }

  /** Records a run that is over before it begins: a `missed` or `dst_skipped` tick. */
  async recordEnded(unit: Unit, source: TriggerSource, reason: EndReason, extra: {scheduledAt?: number; message?: string}): Promise<RunRecord> {
    const run: LiveRun = {record: this.newRecord(unit, source, {}, extra), unit, rendered: {values: {}, env: {}, args: []}, writes: Promise.resolve()}
    this.emit('run.created', run.record)
    await this.endUnstarted(run, reason, extra.message ?? '')
    return run.record
  }

  /** Stops one run: active runs go down their stop ladder; queued ones end without starting. */
  stopRun(id: string, cause: StopCause = 'operator'): 'stopping' | 'dequeued' | 'not_active' {
    const run = this.byId.get(id)
    if (!run) return 'not_active'
    const u = this.unitRuns(run.record.task_name)
    const queued = u.queue.indexOf(run)
    if (queued !== -1) {
      u.queue.splice(queued, 1)
      void this.endUnstarted(run, 'stopped', cause === 'operator' ? 'stopped by an operator before it started' : 'removed from the queue before it started')
      return 'dequeued'
    }
    this.requestStop(run, cause)
    return 'stopping'
  }

  /** Stops every active and queued run of a unit. Returns the ids affected. */
  stopUnit(name: string, cause: StopCause = 'operator'): string[] {
    const u = this.runs.get(name)
    if (!u) return []
    const ids = [...u.queue, ...u.active.values()].map((r) => r.record.id)
    for (const id of ids) this.stopRun(id, cause)
    return ids
  }

  /** Queued runs of a unit end `skipped` (its task was removed by a reload). */
  dropQueue(name: string, message: string): void {
    const u = this.runs.get(name)
    if (!u) return
    for (const run of u.queue.splice(0)) void this.endUnstarted(run, 'skipped', message)
  }

  /** Runs active or queued, and retries waiting for their delay. */
  busy(): number {
    let n = this.retries.size
    for (const u of this.runs.values()) n += u.active.size + u.queue.length
    return n
  }

  occupancy(name: string): {active: number; queued: number} {
    const u = this.runs.get(name)
    return {active: u?.active.size ?? 0, queued: u?.queue.length ?? 0}
  }

  live(id: string): RunRecord | undefined {
    return this.byId.get(id)?.record
  }

  attempt(id: string): Attempt | undefined {
    return this.byId.get(id)?.attempt
  }

  activeRecords(): RunRecord[] {
    return [...this.byId.values()].filter((r) => r.record.status === 'running').map((r) => r.record)
  }

  /**
   * Stops every active run with its ladder and waits up to `timeoutMs`; what is still alive
   * then is killed (`daemon_stopped`). Queued runs stay pending on disk for the next boot.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true
    for (const t of this.retries) t.cancel()
    this.retries.clear()
    const active = [...this.runs.values()].flatMap((u) => [...u.active.values()])
    for (const run of active) this.requestStop(run, 'shutdown')
    const all = Promise.all(active.map((r) => this.settled(r)))
    let timer: TimerHandle | undefined
    const expired = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = this.deps.clock.setTimer(timeoutMs, () => r(true))))])
    timer?.cancel()
    if (expired) for (const run of active) run.attempt?.kill()
    await all
    await Promise.all([...this.byId.values()].map((r) => r.writes))
  }

  // ------------------------------------------------------------------------------------------

  private admit(unit: Unit, record: RunRecord, rendered: ResolvedParams, onSettled?: () => void): Promise<TriggerResult> {
    const run: LiveRun = {record, unit, rendered, writes: Promise.resolve(), onSettled}
    const u = this.unitRuns(unit.name)
    const stoppable = [...u.active.values()].filter((r) => !r.stopping).map((r) => r.record.id)
    const decision: Admission = admit(unit, {active: u.active.size, queued: u.queue.length, stoppable})
    this.emit('run.created', record)
    switch (decision.action) {
      case 'start':
        this.track(unit.name, run)
        u.active.set(record.id, run)
        return this.launch(run).then(() => ({ok: true, outcome: 'started', run: run.record}))
      case 'terminate':
      case 'queue':
        this.track(unit.name, run)
        u.queue.push(run)
        if (decision.action === 'terminate' && decision.victim) this.stopRun(decision.victim, 'terminate')
        return this.persist(run).then(() => ({ok: true, outcome: 'queued', run: run.record}))
      case 'skip':
      case 'queue_full': {
        const reason: EndReason = decision.action === 'skip' ? 'skipped' : 'queue_full'
        return this.endUnstarted(run, reason, decision.message).then(() => ({ok: true, outcome: decision.action === 'skip' ? 'skipped' : 'queue_full', run: run.record}))
      }
    }
  }

  /** Starts queued runs while there are free slots. */
  private pump(name: string): void {
    const u = this.runs.get(name)
    if (!u || this.closing) return
    const unit = this.deps.unit(name)
    const max = unit?.max_concurrent ?? 1
    while (u.active.size < max && u.queue.length) {
      const run = u.queue.shift()!
      u.active.set(run.record.id, run)
      void this.launch(run)
    }
    // Under "terminate" a waiting run never waits for a run to end on its own: each one beyond
    // the runs already being stopped stops the oldest run still going.
    if (unit?.on_overlap === 'terminate') {
      const active = [...u.active.values()]
      let owed = u.queue.length - active.filter((r) => r.stopping).length
      for (const run of active) {
        if (owed <= 0) break
        if (run.stopping) continue
        this.requestStop(run, 'terminate')
        owed--
      }
    }
  }

  /** Resolves once the run is recorded `running` (or ended, if it could not start). */
  private async launch(run: LiveRun): Promise<void> {
    const {clock} = this.deps
    const unit = run.unit
    run.record = {...run.record, status: 'running', started_at: iso(clock.now())}
    await this.persist(run)
    if (run.stopping || this.closing) {
      this.finish(run, {exitCode: null, signal: null, stop: run.stopping ?? 'shutdown', shutdownExpired: false, pid: null, startedAt: clock.now(), endedAt: clock.now(), logBytes: 0})
      return
    }
    let account: Account | undefined
    let attempt: Attempt
    try {
      if (unit.user) account = resolveAccount(unit.user)
      const env = composeEnv({
        daemon: this.deps.daemonEnv,
        unit: unit.env,
        secrets: this.deps.secrets(unit.name),
        params: run.rendered.env,
        run: {task: unit.name, runId: run.record.id, attempt: run.record.retry_attempt},
        account: account ? {HOME: account.home, USER: account.name, LOGNAME: account.name} : undefined,
      })
      await this.ensureDir(this.deps.layout.logsDir(unit.name))
      attempt = await Attempt.start({
        runId: run.record.id,
        unit,
        args: run.rendered.args,
        env,
        logPath: this.deps.layout.logFile(unit.name, run.record.id),
        secrets: Object.values(this.deps.secrets(unit.name)).filter((s) => s.length >= 4),
        account,
        clock,
      })
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      this.finish(run, {startError: reason, exitCode: null, signal: null, shutdownExpired: false, pid: null, startedAt: clock.now(), endedAt: clock.now(), logBytes: 0})
      return
    }
    run.attempt = attempt
    if (attempt.pid !== null) {
      // On disk too, so that `sched runs` and `sched status` show it without a daemon, and crash
      // recovery can signal the group (start time checked) besides the SCHED_RUN_ID search.
      run.record = {...run.record, pid: attempt.pid, process_start: attempt.processStart ?? null}
      void this.persist(run)
      this.emit('run.started', run.record)
    }
    if (run.stopping) attempt.stop(run.stopping)
    void attempt.done.then((outcome) => this.finish(run, outcome))
  }

  private finish(run: LiveRun, outcome: AttemptOutcome): void {
    const unit = run.unit
    const reason = endReason({...outcome, exitCodes: unit.exit_codes})
    const startedAt = run.record.started_at ? Date.parse(run.record.started_at) : outcome.startedAt
    run.record = {
      ...run.record,
      status: 'ended',
      end_reason: reason,
      exit_code: outcome.exitCode,
      signal: outcome.signal,
      ended_at: iso(outcome.endedAt),
      duration_ms: Math.max(0, outcome.endedAt - startedAt),
      pid: outcome.pid ?? run.record.pid,
      log_bytes: outcome.logBytes,
      message: endMessage(reason, outcome, unit, this.deps.shutdownTimeout()),
    }
    void this.persist(run)
    this.release(run)
    this.scheduleRetry(run, reason)
    this.deps.logger.info('run.ended', {task: unit.name, run: run.record.id, end_reason: reason, exit_code: outcome.exitCode ?? undefined})
    this.emit('run.ended', run.record)
    this.pump(unit.name)
  }

  private scheduleRetry(run: LiveRun, reason: EndReason): void {
    const unit = this.deps.unit(run.unit.name) ?? run.unit
    const attempt = run.record.retry_attempt + 1
    const retryable = reason === 'failed' || reason === 'timeout' || reason === 'log_overflow'
    if (!retryable || this.closing || attempt > unit.retry_attempts || unit.kind !== 'task') return
    const delay = retryDelayMs(unit.retry_delay / NS.ms, unit.retry_backoff, attempt)
    const timer = this.deps.clock.setTimer(delay, () => {
      this.retries.delete(timer)
      const current = this.deps.unit(unit.name)
      if (!current || current.kind !== 'task' || this.closing) return
      const record = this.newRecord(current, run.record.triggered_by, run.record.params, {
        scheduledAt: run.record.scheduled_at ? Date.parse(run.record.scheduled_at) : undefined,
        retryOf: run.record,
      })
      void this.admit(current, record, run.rendered)
    })
    this.retries.add(timer)
  }

  private requestStop(run: LiveRun, cause: StopCause): void {
    if (run.stopping) return
    run.stopping = cause
    run.attempt?.stop(cause)
  }

  private async endUnstarted(run: LiveRun, reason: EndReason, message: string): Promise<void> {
    const now = iso(this.deps.clock.now())
    run.record = {...run.record, status: 'ended', end_reason: reason, ended_at: now, duration_ms: 0, message: message || null}
    this.byId.delete(run.record.id)
    this.emit('run.ended', run.record)
    run.onSettled?.()
    await this.persist(run)
  }

  /** Frees the run's slot and memory once its final record is written. */
  private release(run: LiveRun): void {
    const name = run.record.task_name
    this.runs.get(name)?.active.delete(run.record.id)
    run.onSettled?.()
    void run.writes.then(() => {
      if (this.byId.get(run.record.id) === run) this.byId.delete(run.record.id)
    })
  }

  private settled(run: LiveRun): Promise<void> {
    if (run.record.status === 'ended') return Promise.resolve()
    return new Promise((resolve) => {
      const onEnd = (record: RunRecord) => {
        if (record.id !== run.record.id) return
        this.off('run.ended', onEnd)
        resolve()
      }
      this.on('run.ended', onEnd)
    })
  }

  /** Writes the run's current record; writes of one run are chained so none overtakes another. */
  private persist(run: LiveRun): Promise<void> {
    run.writes = run.writes.then(async () => {
      try {
        run.entry = await this.deps.store.save(run.record, run.entry)
      } catch (error) {
        this.deps.logger.error('run.write_failed', {run: run.record.id, error: (error as Error).message})
      }
    })
    return run.writes
  }

  private readonly dirs = new Set<string>()

  /** Creates a unit's log folder once, not once per run. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return
    await mkdir(dir, {recursive: true, mode: 0o700})
    this.dirs.add(dir)
  }

  private track(name: string, run: LiveRun): void {
    this.byId.set(run.record.id, run)
    this.unitRuns(name)
  }

  private unitRuns(name: string): UnitRuns {
    let u = this.runs.get(name)
    if (!u) this.runs.set(name, (u = {active: new Map(), queue: []}))
    return u
  }

  private newRecord(
    unit: Unit,
    source: TriggerSource,
    params: Readonly<Record<string, string>>,
    extra: {scheduledAt?: number; message?: string; retryOf?: RunRecord},
  ): RunRecord {
    const now = this.deps.clock.now()
    return {
      v: STATE_FORMAT,
      id: ulid(now),
      task_name: unit.name,
      kind: unit.kind,
      status: 'pending',
      end_reason: null,
      exit_code: null,
      signal: null,
      triggered_by: source,
      scheduled_at: extra.scheduledAt === undefined ? null : iso(extra.scheduledAt),
      created_at: iso(now),
      started_at: null,
      ended_at: null,
      duration_ms: null,
      retry_attempt: extra.retryOf ? extra.retryOf.retry_attempt + 1 : 0,
      retry_of_run_id: extra.retryOf?.id ?? null,
      instance_index: null,
      params,
      pid: null,
      log_bytes: 0,
      message: extra.message ?? null,
    }
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
