import type {ResolvedParams} from '../config/parameters.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NS, formatDuration} from '../core/duration.js'
import {describeWriteError} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {EndReason, TriggerSource, Unit} from '../core/types.js'
import {ulid} from '../core/ulid.js'
import type {StateLayout} from '../state/layout.js'
import {type RunRecord, newRunRecord} from '../state/run-record.js'
import type {RunEntry} from '../state/runs.js'
import {type StopCause, endReason} from './end-reason.js'
import {endMessage} from './run-message.js'
import type {Launcher, ProcessControl, ProcessEvent, ProcessExit} from './runner/launch.js'

/**
 * Where a run's record goes: written atomically under its current name, the previous one removed
 * (src/state/durable-records.ts in the daemon).
 */
export interface RecordWriter {
  /** Resolves once on disk; a write the disk refuses is kept in memory and retried until it lands. */
  save(record: RunRecord, previous?: RunEntry): Promise<RunEntry>
  /**
   * One write that fails instead of waiting: for a record that must be on disk before an action.
   * A writer whose record survives a crash before the write resolves (the journal, before the
   * record's own file) calls `onDurable` then, so that an action that needs no more need not
   * wait; never when the write is refused.
   */
  attempt(record: RunRecord, previous?: RunEntry, onDurable?: () => void): Promise<RunEntry>
}

/** What every run of one owner shares. */
export interface RunContext {
  readonly clock: Clock
  readonly logger: Logger
  readonly records: RecordWriter
  readonly launcher: Launcher
  readonly layout: StateLayout
  /** In a cluster: this node's name (SCHED_NODE in every run's environment). */
  readonly node?: string
  secrets(unit: string): Readonly<Record<string, string>>
  /** `[daemon] shutdown_timeout` in ns, for the message of a run killed at shutdown. */
  shutdownTimeout(): number
  /** run.created, run.started, run.ended, with the record. */
  publish(event: RunEvent, record: RunRecord): void
  /** The run's final record is on disk: it may leave memory. */
  settled(run: Run): void
  /** The run was never recorded and is dropped (see Run.discard). */
  discarded(run: Run): void
}

export type RunEvent = 'run.created' | 'run.started' | 'run.ended'

export interface RunOptions {
  readonly scheduledAt?: number
  readonly message?: string
  readonly retryOf?: RunRecord
  readonly instance?: number
  /**
   * Consulted once when the process has exited, before the end reason is decided: a service's
   * supervisor says here whether this exit makes its slot FATAL (the run then ends start_failed).
   */
  readonly onExit?: (exit: ExitSummary) => {readonly fatal?: boolean}
  /** A trigger's run: if the disk refuses its first record it is discarded (the trigger refused), not ended. */
  readonly refuseUnrecorded?: boolean
  /** See LaunchSpec.diesWithDaemon. */
  readonly diesWithDaemon?: boolean
}

/** The facts of an exit a supervisor decides on. */
export interface ExitSummary {
  readonly livedMs: number
  /** Exited on its own with a code in exit_codes. */
  readonly clean: boolean
  /** sched was stopping it (operator, reload, shutdown, timeout, …). */
  readonly stopped: boolean
}

const NO_PARAMS: ResolvedParams = {values: {}, env: {}, args: []}

/** A new run's record, pending: what every run starts as, wherever it is admitted. */
export function draftRecord(unit: Unit, source: TriggerSource, rendered: ResolvedParams, options: Pick<RunOptions, 'scheduledAt' | 'message' | 'retryOf' | 'instance'>, now: number): RunRecord {
  return newRunRecord({
    id: ulid(now),
    task_name: unit.name,
    kind: unit.kind,
    triggered_by: source,
    scheduled_at: options.scheduledAt === undefined ? null : iso(options.scheduledAt),
    created_at: iso(now),
    retry_attempt: options.retryOf ? options.retryOf.retry_attempt + 1 : 0,
    retry_of_run_id: options.retryOf?.id ?? null,
    instance_index: options.instance ?? null,
    params: rendered.values,
    message: options.message ?? null,
  })
}
/** A short run writes its pid with its final record: one write fewer. */
const PID_WRITE_DELAY_MS = 50

const STOP_WHY: Record<StopCause, string> = {
  operator: 'stopped by an operator',
  terminate: 'terminated to make room for a newer run (on_overlap = "terminate")',
  service: 'service stopping',
  reload: 'config reloaded',
  shutdown: 'daemon shutting down',
  timeout: 'timeout reached',
  log_overflow: 'log reached log_max_size (log_on_full = "kill_task")',
  lease: "the node's lease on this service slot is running out",
}

/**
 * One run, from its creation to its final record — the only code that changes its record. The
 * record is on disk as `running` before the process is launched, so a crash can never run it
 * twice; the stop ladder and the timeout run on the owner's clock; the process's exit becomes
 * exactly one end reason. What happens around a run (admission, queue, retries, restarts)
 * belongs to whoever holds it: they call start/stop and await `ended`.
 */
export class Run {
  /** The final record, once the run has ended (in memory: `durable()` waits for the disk). */
  readonly ended: Promise<RunRecord>
  /** Resolves once the process is known to run (its pid is on the record), or the run ended without one. */
  readonly spawned: Promise<void>
  private rec: RunRecord
  private entry?: RunEntry
  private def: Unit
  private rendered: ResolvedParams
  private cause?: StopCause
  private shutdownExpired = false
  /** SIGKILL without the ladder was asked for (killNow). */
  private killAsked = false
  private control?: ProcessControl
  private pid: number | null = null
  private exited = false
  private timers: TimerHandle[] = []
  private writes: Promise<void> = Promise.resolve()
  private resolveEnded!: (record: RunRecord) => void
  private resolveSpawned!: () => void
  private readonly onExit?: RunOptions['onExit']
  private readonly refuseUnrecorded: boolean
  private readonly diesWithDaemon: boolean
  /** Why the disk refused the last one-shot write. */
  writeError: unknown
  private dropped = false

  private constructor(
    private readonly ctx: RunContext,
    record: RunRecord,
    unit: Unit,
    rendered: ResolvedParams,
    options: Pick<RunOptions, 'onExit' | 'refuseUnrecorded' | 'diesWithDaemon'> & {entry?: RunEntry} = {},
  ) {
    this.rec = record
    this.def = unit
    this.rendered = rendered
    this.entry = options.entry
    this.onExit = options.onExit
    this.refuseUnrecorded = options.refuseUnrecorded ?? false
    this.diesWithDaemon = options.diesWithDaemon ?? false
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve))
    this.spawned = new Promise((resolve) => (this.resolveSpawned = resolve))
  }

  /** A new run, `pending`, announced as run.created. Nothing is written until it is queued or started. */
  static create(ctx: RunContext, unit: Unit, source: TriggerSource, rendered: ResolvedParams = NO_PARAMS, options: RunOptions = {}): Run {
    const record = draftRecord(unit, source, rendered, options, ctx.clock.now())
    const run = new Run(ctx, record, unit, rendered, options)
    ctx.publish('run.created', record)
    return run
  }

  /** A pending run read back from disk (a queued run resumed at boot). */
  static adopt(ctx: RunContext, record: RunRecord, entry: RunEntry, unit: Unit, rendered: ResolvedParams): Run {
    return new Run(ctx, record, unit, rendered, {entry})
  }

  get record(): RunRecord {
    return this.rec
  }

  get id(): string {
    return this.rec.id
  }

  /** The definition it runs with: fixed once started; a queued run takes a reload's new one. */
  get unit(): Unit {
    return this.def
  }

  get params(): ResolvedParams {
    return this.rendered
  }

  /** Why sched is stopping it, if it is. */
  get stopping(): StopCause | undefined {
    return this.cause
  }

  get isEnded(): boolean {
    return this.rec.status === 'ended'
  }

  /** A queued run picks up a reloaded definition. */
  redefine(unit: Unit, rendered: ResolvedParams): void {
    if (this.rec.status !== 'pending') return
    this.def = unit
    this.rendered = rendered
  }

  /** Writes the record as it is now (a queued run: pending on disk, resumed after a restart). */
  persist(): Promise<void> {
    const record = this.rec
    this.writes = this.writes.then(async () => {
      try {
        this.entry = await this.ctx.records.save(record, this.entry)
      } catch (error) {
        this.ctx.logger.error('run.write_failed', {run: record.id, error: (error as Error).message})
      }
    })
    return this.writes
  }

  /**
   * One write that fails instead of being kept, for a record that must be on disk before what
   * follows (the launch; a trigger's answer). False when the disk refused it (`writeError` says why).
   * `onDurable` runs once: when the writer says the record is durable, else when the write is done.
   */
  persistNow(onDurable?: () => void): Promise<boolean> {
    const record = this.rec
    let told = false
    const durable = () => {
      if (told) return
      told = true
      onDurable?.()
    }
    const write = this.writes.then(async () => {
      try {
        this.entry = await this.ctx.records.attempt(record, this.entry, durable)
        durable()
        return true
      } catch (error) {
        this.writeError = error
        return false
      }
    })
    this.writes = write.then(() => {})
    return write
  }

  /** Never written and refused: the run is dropped as if never created (the trigger is refused). */
  get discarded(): boolean {
    return this.dropped
  }

  /**
   * A run whose first record the disk refused, created by a trigger that can still be refused:
   * it leaves no trace — no run.ended, no record kept — and its trigger answers `storage`.
   */
  discard(): void {
    this.dropped = true
    this.rec = {...this.rec, status: 'ended', end_reason: 'start_failed', ended_at: iso(this.ctx.clock.now()), duration_ms: 0}
    this.ctx.discarded(this)
    this.resolveEnded(this.rec)
    this.resolveSpawned()
  }

  /** Resolves when every write issued so far is on disk (kept writes wait for the disk to take them). */
  durable(): Promise<void> {
    return this.writes
  }

  /**
   * Records the run `running` and launches its process as soon as that record is durable (in the
   * journal: a crash from then on finds it); resolves once the record is in its own file too, so
   * that a trigger answered then agrees with `sched runs`. A run told to stop before the launch
   * ends without a process; a run whose `running` record the disk refuses is never launched — a
   * crash could then run it twice or leave its process unknown — and ends `start_failed`, that
   * end kept until the disk takes it. Resolves with the record as recorded: the process may
   * report its pid while the file is written, and an answer must not depend on which came first.
   */
  async start(): Promise<RunRecord> {
    const {ctx} = this
    this.rec = {...this.rec, status: 'running', started_at: iso(ctx.clock.now())}
    const recorded = this.rec
    if (await this.persistNow(() => this.launch())) return recorded
    if (this.entry === undefined && this.refuseUnrecorded) this.discard()
    else {
      this.rec = {
        ...this.rec,
        status: 'ended',
        end_reason: 'start_failed',
        ended_at: this.rec.started_at,
        duration_ms: 0,
        message: `not started: sched could not record the start in its state directory (${describeWriteError(this.writeError)}); free space there`,
      }
      ctx.logger.info('run.ended', {task: this.def.name, run: this.rec.id, end_reason: 'start_failed'})
      this.settle()
    }
    return this.rec
  }

  /** The process, once the `running` record is durable; none for a run told to stop meanwhile. */
  private launch(): void {
    const {ctx} = this
    const unit = this.def
    if (this.cause) {
      this.finish({exitCode: null, signal: null, pid: null, exitedAt: ctx.clock.now(), logBytes: 0})
      return
    }
    const secrets = ctx.secrets(unit.name)
    const run = this.rec
    this.control = ctx.launcher.launch(
      {
        runId: run.id,
        shell: unit.shell,
        ...(this.diesWithDaemon ? {diesWithDaemon: true} : {}),
        script: unit.run,
        args: this.rendered.args,
        env: {
          unit: unit.env,
          secrets,
          params: this.rendered.env,
          run: {task: unit.name, runId: run.id, attempt: run.retry_attempt, instance: run.instance_index ?? undefined, node: ctx.node},
        },
        cwd: unit.working_dir || undefined,
        user: unit.user || undefined,
        umask: unit.umask || undefined,
        log: {
          path: ctx.layout.logFile(unit.name, run.id),
          maxSize: unit.log_max_size,
          onFull: unit.log_on_full,
          secrets: Object.values(secrets).filter((s) => s.length >= 4),
        },
      },
      (event) => this.onProcess(event),
    )
  }

  /** Starts the stop ladder: stop_signal to the group, SIGKILL after graceful_stop. */
  stop(cause: StopCause): void {
    if (this.cause || this.isEnded) return
    this.cause = cause
    // Not launched yet: start() ends it without a process; launched: the ladder begins once
    // the process is known to exist.
    if (this.pid !== null) this.ladder(cause)
  }

  /** Shutdown ran out of time: kill now; the run ends daemon_stopped. */
  kill(): void {
    if (this.exited || this.isEnded) return
    this.cause ??= 'shutdown'
    this.shutdownExpired = true
    if (this.pid !== null) this.control?.kill('[sched] daemon shutdown_timeout ran out; sending SIGKILL')
  }

  /**
   * SIGKILL now, no ladder (a lost service slot lease: another node may start the instance at
   * the lease's end, so it must be gone before then). Ends `stopped`, like the ladder it cuts.
   */
  killNow(cause: StopCause): void {
    if (this.exited || this.isEnded) return
    this.cause ??= cause
    this.killAsked = true
    if (this.pid !== null) this.control?.kill(`[sched] ${STOP_WHY[this.cause]}; sending SIGKILL to the process group`)
  }

  /** Ends a run that never started: skipped, queue_full, missed, dst_skipped, stopped while queued. */
  endUnstarted(reason: EndReason, message: string): Promise<void> {
    this.rec = {...this.rec, status: 'ended', end_reason: reason, ended_at: iso(this.ctx.clock.now()), duration_ms: 0, message: message || null}
    this.settle()
    return this.writes
  }

  /**
   * The same for a trigger's run that never started (skipped, queue_full): its one record is
   * written before anyone is told, and if the disk refuses it the run is discarded (false).
   */
  async endUnstartedOrDiscard(reason: EndReason, message: string): Promise<boolean> {
    this.rec = {...this.rec, status: 'ended', end_reason: reason, ended_at: iso(this.ctx.clock.now()), duration_ms: 0, message: message || null}
    if (!(await this.persistNow())) {
      this.discard()
      return false
    }
    this.ctx.publish('run.ended', this.rec)
    this.resolveEnded(this.rec)
    this.resolveSpawned()
    this.ctx.settled(this)
    return true
  }

  private ladder(cause: StopCause): void {
    const unit = this.def
    const control = this.control!
    const signal = unit.stop_signal
    const grace = unit.graceful_stop / NS.ms
    if (signal === 'SIGKILL' || grace === 0) {
      control.kill(`[sched] ${STOP_WHY[cause]}; sending SIGKILL to the process group`)
      return
    }
    control.signal(signal, `[sched] ${STOP_WHY[cause]}; sending ${signal} to the process group (SIGKILL in ${formatDuration(unit.graceful_stop)})`)
    this.timers.push(
      this.ctx.clock.setTimer(grace, () => {
        if (!this.exited) control.kill(`[sched] still running ${formatDuration(unit.graceful_stop)} after ${signal}; sending SIGKILL`)
      }),
    )
  }

  private onProcess(event: ProcessEvent): void {
    switch (event.type) {
      case 'started':
        return this.started(event.pid, event.processStart)
      case 'overflow':
        return this.stop('log_overflow')
      case 'exited':
        return this.finish(event)
    }
  }

  private started(pid: number, processStart: string | null): void {
    const {ctx} = this
    this.pid = pid
    this.rec = {...this.rec, pid, process_start: processStart}
    ctx.publish('run.started', this.rec)
    this.resolveSpawned()
    // On disk too, so that `sched runs` and `sched status` show it without a daemon, and crash
    // recovery can signal the group (start time checked) besides the SCHED_RUN_ID search.
    ctx.clock.setTimer(PID_WRITE_DELAY_MS, () => {
      if (!this.isEnded) void this.persist()
    })
    if (this.def.timeout > 0) this.timers.push(ctx.clock.setTimer(this.def.timeout / NS.ms, () => this.stop('timeout')))
    if (this.shutdownExpired) this.control!.kill('[sched] daemon shutdown_timeout ran out; sending SIGKILL')
    else if (this.killAsked) this.control!.kill(`[sched] ${STOP_WHY[this.cause!]}; sending SIGKILL to the process group`)
    else if (this.cause) this.ladder(this.cause)
  }

  private finish(exit: ProcessExit): void {
    if (this.isEnded) return
    this.exited = true
    for (const t of this.timers) t.cancel()
    const unit = this.def
    const startedAt = this.rec.started_at ? Date.parse(this.rec.started_at) : exit.exitedAt
    const endedAt = Math.max(startedAt, exit.exitedAt)
    const clean = exit.startError === undefined && exit.signal === null && exit.exitCode !== null && unit.exit_codes.includes(exit.exitCode)
    const {fatal} = this.onExit?.({livedMs: endedAt - startedAt, clean, stopped: this.cause !== undefined}) ?? {}
    const facts = {...exit, stop: this.cause, shutdownExpired: this.shutdownExpired, fatal, exitCodes: unit.exit_codes}
    const reason = endReason(facts)
    this.rec = {
      ...this.rec,
      status: 'ended',
      end_reason: reason,
      exit_code: exit.exitCode,
      signal: exit.signal,
      ended_at: iso(endedAt),
      duration_ms: endedAt - startedAt,
      pid: exit.pid ?? this.rec.pid,
      log_bytes: exit.logBytes,
      message: endMessage(reason, facts, unit, this.ctx.shutdownTimeout()),
    }
    this.ctx.logger.info('run.ended', {task: unit.name, run: this.rec.id, end_reason: reason, exit_code: exit.exitCode ?? undefined})
    this.settle()
  }

  /** The run has ended: announced, written, and let go from memory once on disk. */
  private settle(): void {
    const record = this.rec
    this.ctx.publish('run.ended', record)
    this.resolveEnded(record)
    this.resolveSpawned()
    void this.persist().then(() => this.ctx.settled(this))
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
