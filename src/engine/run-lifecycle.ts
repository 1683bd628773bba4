import {EventEmitter} from 'node:events'
import {mkdir} from 'node:fs/promises'
import type {ResolvedParams} from '../config/parameters.js'
import type {Clock} from '../core/clock.js'
import type {Logger} from '../core/logger.js'
import type {EndReason, TriggerSource, Unit} from '../core/types.js'
import {ulid} from '../core/ulid.js'
import {STATE_FORMAT} from '../state/json-file.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import type {RunEntry, RunStore} from '../state/runs.js'
import {type StopCause, endReason} from './end-reason.js'
import {composeEnv} from './env.js'
import {endMessage} from './run-message.js'
import {type Account, resolveAccount} from './runner/accounts.js'
import {Attempt, type AttemptOutcome} from './runner/attempt.js'

export interface LifecycleDeps {
  readonly clock: Clock
  readonly logger: Logger
  readonly store: RunStore
  readonly layout: StateLayout
  readonly daemonEnv: NodeJS.ProcessEnv
  secrets(name: string): Readonly<Record<string, string>>
  shutdownTimeout(): number
}

/** A run held in memory from its creation until its final record is written. */
export interface LiveRun {
  record: RunRecord
  entry?: RunEntry
  /**
   * The definition the run runs with: fixed once it starts (a reload changes later runs, not
   * this one); a queued run takes the new definition (Executor.redefine).
   */
  unit: Unit
  rendered: ResolvedParams
  attempt?: Attempt
  stopping?: StopCause
  writes: Promise<void>
  /** Called once when the run ends (the jitter gate's release). */
  onSettled?: () => void
}

export interface CreateOptions {
  readonly scheduledAt?: number
  readonly message?: string
  readonly retryOf?: RunRecord
  readonly instance?: number
}

const NO_PARAMS: ResolvedParams = {values: {}, env: {}, args: []}
const PID_WRITE_DELAY_MS = 50

/**
 * One run from record to end, the same for task runs and service instances: the record is on
 * disk as `running` before the spawn, the attempt's outcome becomes exactly one end reason, and
 * every change is published as `run.created`, `run.started`, `run.ended` (with the record).
 * What happens around a run — admission, retries, restarts — belongs to its owner.
 */
export class RunLifecycle extends EventEmitter {
  private readonly live = new Map<string, LiveRun>()
  private readonly dirs = new Set<string>()
  /** process.env reads through to the C library on every key: one plain copy serves every run. */
  private readonly daemonEnv: Readonly<Record<string, string | undefined>>

  constructor(private readonly deps: LifecycleDeps) {
    super()
    this.daemonEnv = {...deps.daemonEnv}
  }

  create(unit: Unit, source: TriggerSource, rendered: ResolvedParams = NO_PARAMS, options: CreateOptions = {}): LiveRun {
    const now = this.deps.clock.now()
    const record: RunRecord = {
      v: STATE_FORMAT,
      id: ulid(now),
      task_name: unit.name,
      kind: unit.kind,
      status: 'pending',
      end_reason: null,
      exit_code: null,
      signal: null,
      triggered_by: source,
      scheduled_at: options.scheduledAt === undefined ? null : iso(options.scheduledAt),
      created_at: iso(now),
      started_at: null,
      ended_at: null,
      duration_ms: null,
      retry_attempt: options.retryOf ? options.retryOf.retry_attempt + 1 : 0,
      retry_of_run_id: options.retryOf?.id ?? null,
      instance_index: options.instance ?? null,
      params: rendered.values,
      pid: null,
      log_bytes: 0,
      message: options.message ?? null,
    }
    const run: LiveRun = {record, unit, rendered, writes: Promise.resolve()}
    this.live.set(record.id, run)
    this.emit('run.created', record)
    return run
  }

  /** A run read back from disk (a queued run resumed at boot). */
  adopt(record: RunRecord, entry: RunEntry, unit: Unit, rendered: ResolvedParams): LiveRun {
    const run: LiveRun = {record, entry, unit, rendered, writes: Promise.resolve()}
    this.live.set(record.id, run)
    return run
  }

  get(id: string): LiveRun | undefined {
    return this.live.get(id)
  }

  /**
   * Records the run `running` and starts its process. `onExit` receives the attempt's outcome
   * once it is over — also when the process could not start or the run was stopped before it.
   */
  async launch(run: LiveRun, onExit: (outcome: AttemptOutcome) => void): Promise<void> {
    const {clock} = this.deps
    const unit = run.unit
    run.record = {...run.record, status: 'running', started_at: iso(clock.now())}
    await this.persist(run)
    const notStarted = (extra: Partial<AttemptOutcome>): void =>
      onExit({exitCode: null, signal: null, shutdownExpired: false, pid: null, startedAt: clock.now(), endedAt: clock.now(), logBytes: 0, ...extra})
    if (run.stopping) {
      notStarted({stop: run.stopping})
      return
    }
    let attempt: Attempt
    try {
      const account: Account | undefined = unit.user ? resolveAccount(unit.user) : undefined
      const env = composeEnv({
        daemon: this.daemonEnv,
        unit: unit.env,
        secrets: this.deps.secrets(unit.name),
        params: run.rendered.env,
        run: {task: unit.name, runId: run.record.id, attempt: run.record.retry_attempt, instance: run.record.instance_index ?? undefined},
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
      notStarted({startError: error instanceof Error ? error.message : String(error)})
      return
    }
    run.attempt = attempt
    if (attempt.pid !== null) {
      run.record = {...run.record, pid: attempt.pid, process_start: attempt.processStart ?? null}
      this.emit('run.started', run.record)
      // On disk too, so that `sched runs` and `sched status` show it without a daemon, and crash
      // recovery can signal the group (start time checked) besides the SCHED_RUN_ID search. It can
      // wait a moment: a short run writes its pid with its final record, one write fewer.
      clock.setTimer(PID_WRITE_DELAY_MS, () => {
        if (run.record.status !== 'ended') void this.persist(run)
      })
    }
    if (run.stopping) attempt.stop(run.stopping)
    void attempt.done.then(onExit)
  }

  /** Turns an attempt's outcome into the run's end reason and final record. */
  complete(run: LiveRun, outcome: AttemptOutcome, extra: {fatal?: boolean} = {}): EndReason {
    const unit = run.unit
    const reason = endReason({...outcome, fatal: extra.fatal, exitCodes: unit.exit_codes})
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
    this.settle(run)
    this.deps.logger.info('run.ended', {task: unit.name, run: run.record.id, end_reason: reason, exit_code: outcome.exitCode ?? undefined})
    this.emit('run.ended', run.record)
    return reason
  }

  /** Ends a run that never started: skipped, queue_full, missed, dst_skipped, stopped while queued. */
  endUnstarted(run: LiveRun, reason: EndReason, message: string): Promise<void> {
    run.record = {...run.record, status: 'ended', end_reason: reason, ended_at: iso(this.deps.clock.now()), duration_ms: 0, message: message || null}
    this.settle(run)
    this.emit('run.ended', run.record)
    return run.writes
  }

  /** Records a run that is over before it begins: a `missed` or `dst_skipped` tick. */
  async recordEnded(unit: Unit, source: TriggerSource, reason: EndReason, options: CreateOptions = {}): Promise<RunRecord> {
    const run = this.create(unit, source, NO_PARAMS, options)
    await this.endUnstarted(run, reason, options.message ?? '')
    return run.record
  }

  /** Ends a run read back from disk that can no longer run (its task was removed). */
  async abandon(record: RunRecord, entry: RunEntry, reason: EndReason, message: string): Promise<void> {
    const ended: RunRecord = {...record, status: 'ended', end_reason: reason, ended_at: iso(this.deps.clock.now()), duration_ms: 0, message}
    try {
      await this.deps.store.save(ended, entry)
    } catch (error) {
      this.deps.logger.error('run.write_failed', {run: record.id, error: (error as Error).message})
    }
    this.emit('run.ended', ended)
  }

  /** Starts the stop ladder (or marks a run that has not spawned yet so it never does). */
  requestStop(run: LiveRun, cause: StopCause): void {
    if (run.stopping || run.record.status === 'ended') return
    run.stopping = cause
    run.attempt?.stop(cause)
  }

  /** Resolves once the run has ended and its final record is on disk. */
  async ended(run: LiveRun): Promise<void> {
    if (run.record.status !== 'ended') {
      await new Promise<void>((resolve) => {
        const onEnd = (record: RunRecord) => {
          if (record.id !== run.record.id) return
          this.off('run.ended', onEnd)
          resolve()
        }
        this.on('run.ended', onEnd)
      })
    }
    // A caller told "it ended" (sched stop) must find it ended when it reads the state directory.
    await run.writes
  }

  /** Resolves when every write issued so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.live.values()].map((r) => r.writes))
  }

  /** Writes the run's current record; writes of one run are chained so none overtakes another. */
  persist(run: LiveRun): Promise<void> {
    run.writes = run.writes.then(async () => {
      try {
        run.entry = await this.deps.store.save(run.record, run.entry)
      } catch (error) {
        this.deps.logger.error('run.write_failed', {run: run.record.id, error: (error as Error).message})
      }
    })
    return run.writes
  }

  /** Writes the final record, then lets the run go from memory. */
  private settle(run: LiveRun): void {
    void this.persist(run).then(() => {
      if (this.live.get(run.record.id) === run) this.live.delete(run.record.id)
    })
    run.onSettled?.()
    run.onSettled = undefined
  }

  /** Creates a unit's log folder once, not once per run. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return
    await mkdir(dir, {recursive: true, mode: 0o700})
    this.dirs.add(dir)
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
