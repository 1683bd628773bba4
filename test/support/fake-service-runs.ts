import type {ResolvedParams} from '../../src/config/parameters.js'
import type {EndReason, TriggerSource, Unit} from '../../src/core/types.js'
import {type StopCause, endReason} from '../../src/engine/end-reason.js'
import type {CreateOptions, LiveRun} from '../../src/engine/run-lifecycle.js'
import type {Attempt, AttemptOutcome} from '../../src/engine/runner/attempt.js'
import type {ServiceRuns} from '../../src/engine/supervisor.js'
import type {FakeClock} from './fake-clock.js'

/**
 * ServiceRuns for Supervisor tests: no processes, no files. Every launch is recorded with the
 * fake clock's time; each fake process exits when its behaviour says (or when the test calls
 * `exit`), and answers a stop after `stopTakesMs`. Pair it with `advance()` below, which lets the
 * supervisor's promise callbacks run between timers.
 */

export interface Behaviour {
  /** Exits on its own this long after its launch; undefined = runs until stopped. */
  readonly exitAfterMs?: number
  /** The code it exits with on its own [1]. */
  readonly exitCode?: number
  /** Time from a stop request to its exit [0 = at once]; Infinity = ignores stops (only a kill ends it). */
  readonly stopTakesMs?: number
}

export interface FakeProcess {
  readonly run: LiveRun
  readonly service: string
  readonly instance: number
  readonly pid: number
  readonly launchedAt: number
  stopRequestedAt?: number
  stopCause?: StopCause
  killedAt?: number
  endedAt?: number
  endReason?: EndReason
  fatal?: boolean
  readonly alive: boolean
  /** Makes the process exit now (as if it exited on its own, or died of `signal`). */
  exit(exitCode: number | null, signal?: string | null): void
}

const NO_PARAMS: ResolvedParams = {values: {}, env: {}, args: []}

export class FakeServiceRuns implements ServiceRuns {
  /** Every launched process, in launch order. */
  readonly processes: FakeProcess[] = []
  /** "stop api#0", "end api#0 stopped", "kill db#0": what happened, in order. */
  readonly log: string[] = []
  /** Decides how each launched process behaves; `nth` counts launches of that slot from 0. */
  behaviour: (unit: Unit, instance: number, nth: number) => Behaviour = () => ({})
  private seq = 0
  private readonly waiters = new Map<string, (() => void)[]>()

  constructor(private readonly clock: FakeClock) {}

  /** Launch times of one service's processes (optionally of one instance). */
  launchTimes(service: string, instance?: number): number[] {
    return this.of(service, instance).map((p) => p.launchedAt)
  }

  of(service: string, instance?: number): FakeProcess[] {
    return this.processes.filter((p) => p.service === service && (instance === undefined || p.instance === instance))
  }

  /** Processes still alive. */
  live(service?: string): FakeProcess[] {
    return this.processes.filter((p) => p.alive && (service === undefined || p.service === service))
  }

  create(unit: Unit, source: TriggerSource, rendered: ResolvedParams = NO_PARAMS, options: CreateOptions = {}): LiveRun {
    const now = this.clock.now()
    const id = `run-${String(++this.seq).padStart(4, '0')}`
    return {
      record: {
        v: 1,
        id,
        task_name: unit.name,
        kind: unit.kind,
        status: 'pending',
        end_reason: null,
        exit_code: null,
        signal: null,
        triggered_by: source,
        scheduled_at: null,
        created_at: new Date(now).toISOString(),
        started_at: null,
        ended_at: null,
        duration_ms: null,
        retry_attempt: 0,
        retry_of_run_id: null,
        instance_index: options.instance ?? null,
        params: rendered.values,
        pid: null,
        log_bytes: 0,
        message: null,
      },
      unit,
      rendered,
      writes: Promise.resolve(),
    }
  }

  launch(run: LiveRun, onExit: (outcome: AttemptOutcome) => void): Promise<void> {
    const clock = this.clock
    const unit = run.unit
    const instance = run.record.instance_index ?? -1
    const nth = this.of(unit.name, instance).length
    const behaviour = this.behaviour(unit, instance, nth)
    const launchedAt = clock.now()
    const pid = 10_000 + this.processes.length
    run.record = {...run.record, status: 'running', started_at: new Date(launchedAt).toISOString(), pid}
    let alive = true
    let shutdownExpired = false
    const timers: {cancel(): void}[] = []
    const log = this.log
    const proc: FakeProcess = {
      run,
      service: unit.name,
      instance,
      pid,
      launchedAt,
      get alive() {
        return alive
      },
      exit(exitCode, signal = null) {
        if (!alive) return
        alive = false
        for (const t of timers) t.cancel()
        onExit({exitCode, signal, stop: run.stopping, shutdownExpired, pid, startedAt: launchedAt, endedAt: clock.now(), logBytes: 0})
      },
    }
    // The supervisor reaches the attempt only to kill what is left when shutdown_timeout runs out.
    run.attempt = {
      kill: () => {
        if (!alive) return
        proc.killedAt = clock.now()
        log.push(`kill ${unit.name}#${instance}`)
        run.stopping ??= 'shutdown'
        shutdownExpired = true
        proc.exit(null, 'SIGKILL')
      },
      stop: (cause: StopCause) => {
        const takes = behaviour.stopTakesMs ?? 0
        if (takes === Number.POSITIVE_INFINITY) return
        if (takes === 0) void Promise.resolve().then(() => proc.exit(null, 'SIGTERM'))
        else timers.push(clock.setTimer(takes, () => proc.exit(null, 'SIGTERM')))
        void cause
      },
    } as unknown as Attempt
    this.processes.push(proc)
    if (behaviour.exitAfterMs !== undefined) timers.push(clock.setTimer(behaviour.exitAfterMs, () => proc.exit(behaviour.exitCode ?? 1)))
    return Promise.resolve()
  }

  complete(run: LiveRun, outcome: AttemptOutcome, extra: {fatal?: boolean} = {}): EndReason {
    const reason = endReason({...outcome, fatal: extra.fatal, exitCodes: run.unit.exit_codes})
    run.record = {
      ...run.record,
      status: 'ended',
      end_reason: reason,
      exit_code: outcome.exitCode,
      signal: outcome.signal,
      ended_at: new Date(outcome.endedAt).toISOString(),
      duration_ms: outcome.endedAt - outcome.startedAt,
    }
    const proc = this.processes.find((p) => p.run === run)
    if (proc) {
      proc.endedAt = outcome.endedAt
      proc.endReason = reason
      proc.fatal = extra.fatal ?? false
    }
    this.log.push(`end ${run.unit.name}#${run.record.instance_index} ${reason}`)
    for (const wake of this.waiters.get(run.record.id) ?? []) wake()
    this.waiters.delete(run.record.id)
    return reason
  }

  requestStop(run: LiveRun, cause: StopCause): void {
    if (run.stopping || run.record.status === 'ended') return
    run.stopping = cause
    const proc = this.processes.find((p) => p.run === run)
    if (proc) {
      proc.stopRequestedAt = this.clock.now()
      proc.stopCause = cause
    }
    this.log.push(`stop ${run.unit.name}#${run.record.instance_index}`)
    run.attempt?.stop(cause)
  }

  ended(run: LiveRun): Promise<void> {
    if (run.record.status === 'ended') return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.waiters.get(run.record.id) ?? []
      list.push(resolve)
      this.waiters.set(run.record.id, list)
    })
  }
}

/** Lets pending promise callbacks (and the timers they arm at `now`) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * Moves the fake clock forward by `ms` one due timer at a time, letting promise callbacks run
 * in between — the supervisor arms its health timer after an awaited launch.
 */
export async function advance(clock: FakeClock, ms: number): Promise<void> {
  const end = clock.now() + ms
  await settle()
  let steps = 0
  for (let next = clock.nextDue(); next !== undefined && next <= end; next = clock.nextDue()) {
    if (++steps > 100_000) throw new Error('timers keep coming due: runaway timer loop')
    clock.advanceTo(next)
    await settle()
  }
  clock.advanceTo(end)
  await settle()
}
