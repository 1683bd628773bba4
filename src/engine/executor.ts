import {type ParamProblem, type SuppliedParams, resolveParams} from '../config/parameters.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {EndReason, TriggerSource, Unit} from '../core/types.js'
import type {RunRecord} from '../state/run-record.js'
import type {RunEntry} from '../state/runs.js'
import {type Admission, admit} from './admission.js'
import {retryDelayMs} from './backoff.js'
import type {StopCause} from './end-reason.js'
import type {LiveRun, RunLifecycle} from './run-lifecycle.js'
import type {AttemptOutcome} from './runner/attempt.js'

export interface ExecutorDeps {
  readonly clock: Clock
  readonly runs: RunLifecycle
  /** The current definition of a unit (config reloads change it). */
  unit(name: string): Unit | undefined
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

interface TaskRuns {
  readonly active: Map<string, LiveRun>
  readonly queue: LiveRun[]
}

const MANUAL: ReadonlySet<TriggerSource> = new Set(['api', 'cli'])

/**
 * Admission and execution of task runs. Every trigger source arrives through trigger(); params
 * are resolved before anything is stored; a failure may schedule a retry that is admitted like
 * any other run.
 */
export class Executor {
  private readonly tasks = new Map<string, TaskRuns>()
  private readonly retries = new Set<TimerHandle>()
  private idleWaiters: (() => void)[] = []
  private closing = false

  constructor(private readonly deps: ExecutorDeps) {}

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
    const run = this.deps.runs.create(unit, req.source, resolution.params, {scheduledAt: req.scheduledAt, message: req.message})
    run.onSettled = req.onSettled
    return this.admit(unit, run)
  }

  /** Puts back a run found pending on disk at boot, behind nothing older (ids sort by age). */
  resume(record: RunRecord, entry: RunEntry): void {
    const unit = this.deps.unit(record.task_name)
    if (!unit || unit.kind !== 'task') {
      void this.deps.runs.abandon(record, entry, 'skipped', `its ${unit ? 'unit is now a service' : 'task was removed from the config'}`)
      return
    }
    const params = resolveParams(unit.parameters, record.params)
    if (!params.ok) {
      void this.deps.runs.abandon(record, entry, 'failed', `its parameters no longer fit the task: ${params.problems.map((p) => p.message).join('; ')}`)
      return
    }
    this.taskRuns(unit.name).queue.push(this.deps.runs.adopt(record, entry, unit, params.params))
    this.pump(unit.name)
  }

  /** Stops one run: active runs go down their stop ladder; queued ones end without starting. */
  stopRun(id: string, cause: StopCause = 'operator'): 'stopping' | 'dequeued' | 'not_active' {
    const run = this.deps.runs.get(id)
    if (!run || run.record.kind !== 'task' || run.record.status === 'ended') return 'not_active'
    const t = this.taskRuns(run.record.task_name)
    const queued = t.queue.indexOf(run)
    if (queued !== -1) {
      t.queue.splice(queued, 1)
      void this.deps.runs.endUnstarted(run, 'stopped', cause === 'operator' ? 'stopped by an operator before it started' : 'removed from the queue before it started')
      return 'dequeued'
    }
    this.deps.runs.requestStop(run, cause)
    return 'stopping'
  }

  /** Stops every active and queued run of a task. Returns the ids affected. */
  stopTask(name: string, cause: StopCause = 'operator'): string[] {
    const t = this.tasks.get(name)
    if (!t) return []
    const ids = [...t.queue, ...t.active.values()].map((r) => r.record.id)
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
        run.unit = unit
        run.rendered = params.params
        continue
      }
      t.queue.splice(t.queue.indexOf(run), 1)
      void this.deps.runs.endUnstarted(run, 'failed', `its parameters no longer fit the reloaded task: ${params.problems.map((p) => p.message).join('; ')}`)
    }
    this.pump(unit.name)
  }

  /** Queued runs of a task end `skipped` (the task was removed by a reload). */
  dropQueue(name: string, message: string): void {
    const t = this.tasks.get(name)
    if (!t) return
    for (const run of t.queue.splice(0)) void this.deps.runs.endUnstarted(run, 'skipped', message)
  }

  /** Runs active or queued, and retries waiting for their delay. */
  busy(): number {
    let n = this.retries.size
    for (const t of this.tasks.values()) n += t.active.size + t.queue.length
    return n
  }

  /** Resolves once no run is active, queued or waiting to be retried. */
  whenIdle(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  occupancy(name: string): {active: number; queued: number} {
    const t = this.tasks.get(name)
    return {active: t?.active.size ?? 0, queued: t?.queue.length ?? 0}
  }

  /**
   * Stops every active run with its ladder and waits up to `timeoutMs`; what is still alive
   * then is killed (`daemon_stopped`). Queued runs stay pending on disk for the next boot.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true
    for (const t of this.retries) t.cancel()
    this.retries.clear()
    const active = [...this.tasks.values()].flatMap((t) => [...t.active.values()])
    for (const run of active) this.deps.runs.requestStop(run, 'shutdown')
    await stopWithin(this.deps.clock, active, this.deps.runs, timeoutMs)
  }

  // ------------------------------------------------------------------------------------------

  private admit(unit: Unit, run: LiveRun): Promise<TriggerResult> {
    const t = this.taskRuns(unit.name)
    const stoppable = [...t.active.values()].filter((r) => !r.stopping).map((r) => r.record.id)
    const decision: Admission = admit(unit, {active: t.active.size, queued: t.queue.length, stoppable})
    switch (decision.action) {
      case 'start':
        t.active.set(run.record.id, run)
        return this.start(run).then(() => ({ok: true, outcome: 'started', run: run.record}))
      case 'terminate':
      case 'queue':
        t.queue.push(run)
        if (decision.action === 'terminate' && decision.victim) this.stopRun(decision.victim, 'terminate')
        return this.deps.runs.persist(run).then(() => ({ok: true, outcome: 'queued', run: run.record}))
      case 'skip':
      case 'queue_full': {
        const reason: EndReason = decision.action === 'skip' ? 'skipped' : 'queue_full'
        return this.deps.runs.endUnstarted(run, reason, decision.message).then(() => ({ok: true, outcome: reason, run: run.record}))
      }
    }
  }

  /** Resolves once the run is recorded `running` (or ended, if it could not start). */
  private start(run: LiveRun): Promise<void> {
    if (this.closing) this.deps.runs.requestStop(run, 'shutdown')
    return this.deps.runs.launch(run, (outcome) => this.finish(run, outcome))
  }

  private finish(run: LiveRun, outcome: AttemptOutcome): void {
    this.tasks.get(run.unit.name)?.active.delete(run.record.id)
    const reason = this.deps.runs.complete(run, outcome)
    this.scheduleRetry(run, reason)
    this.pump(run.unit.name)
    this.checkIdle()
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.busy() > 0) return
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  /** Starts queued runs while there are free slots. */
  private pump(name: string): void {
    const t = this.tasks.get(name)
    if (!t || this.closing) return
    const unit = this.deps.unit(name)
    const max = unit?.max_concurrent ?? 1
    while (t.active.size < max && t.queue.length) {
      const run = t.queue.shift()!
      t.active.set(run.record.id, run)
      void this.start(run)
    }
    // Under "terminate" a waiting run never waits for a run to end on its own: each one beyond
    // the runs already being stopped stops the oldest run still going.
    if (unit?.on_overlap === 'terminate') {
      const active = [...t.active.values()]
      let owed = t.queue.length - active.filter((r) => r.stopping).length
      for (const run of active) {
        if (owed <= 0) break
        if (run.stopping) continue
        this.deps.runs.requestStop(run, 'terminate')
        owed--
      }
    }
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
      // Retries reuse the resolved values; they render with the task as it is now.
      const params = resolveParams(current.parameters, run.record.params)
      const next = this.deps.runs.create(current, run.record.triggered_by, params.ok ? params.params : run.rendered, {
        scheduledAt: run.record.scheduled_at ? Date.parse(run.record.scheduled_at) : undefined,
        retryOf: run.record,
      })
      void this.admit(current, next)
    })
    this.retries.add(timer)
  }

  private taskRuns(name: string): TaskRuns {
    let t = this.tasks.get(name)
    if (!t) this.tasks.set(name, (t = {active: new Map(), queue: []}))
    return t
  }
}

/**
 * Waits for runs already told to stop; what is still alive after `timeoutMs` is killed and ends
 * `daemon_stopped`.
 */
export async function stopWithin(clock: Clock, runs: readonly LiveRun[], lifecycle: RunLifecycle, timeoutMs: number): Promise<void> {
  const all = Promise.all(runs.map((r) => lifecycle.ended(r)))
  let timer: TimerHandle | undefined
  const expired = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = clock.setTimer(timeoutMs, () => r(true))))])
  timer?.cancel()
  if (expired) for (const run of runs) run.attempt?.kill()
  await all
}
