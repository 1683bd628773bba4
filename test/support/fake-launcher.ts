import type {EndReason, Unit} from '../../src/core/types.js'
import type {StopCause} from '../../src/engine/end-reason.js'
import type {RecordWriter, Run} from '../../src/engine/run.js'
import type {RunOwner} from '../../src/engine/run-owner.js'
import type {LaunchSpec, Launcher, ProcessControl, ProcessEvent} from '../../src/engine/runner/launch.js'
import {FileNotWritten} from '../../src/state/record-journal.js'
import type {RunRecord} from '../../src/state/run-record.js'
import {type RunEntry, entryOf} from '../../src/state/runs.js'
import type {FakeClock} from './fake-clock.js'

/**
 * A Launcher with no processes, for the run owner and the supervisor on a fake clock: the real
 * RunOwner, Run and Supervisor decide everything, and only the processes are pretend. Each
 * launch is recorded with the fake clock's time; a fake process exits when its behaviour says
 * (or when the test calls `exit`), answers a stop signal after `stopTakesMs`, and dies at once
 * when killed. Pair it with `advance()` below, which lets promise callbacks run between timers.
 */

export interface Behaviour {
  /** Exits on its own this long after its launch; undefined = runs until stopped. */
  readonly exitAfterMs?: number
  /** The code it exits with on its own [1]. */
  readonly exitCode?: number
  /** Time from a stop signal to its exit [0 = at once]; Infinity = ignores signals (only a kill ends it). */
  readonly stopTakesMs?: number
  /** Fails to start (bad working_dir, unknown user): reported as a start error. */
  readonly startError?: string
  /** The start is reported this long after the launch (a slow fork) [0]. */
  readonly startAfterMs?: number
}

export interface FakeProcess {
  readonly spec: LaunchSpec
  /** The run's record as last seen (live while the run is in the owner's memory). */
  readonly run: {readonly record: RunRecord}
  readonly service: string
  readonly instance: number
  readonly pid: number
  readonly launchedAt: number
  /** Signals sent to its group, in order. */
  readonly signals: string[]
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

export class FakeLauncher implements Launcher {
  /** Every launched process, in launch order. */
  readonly processes: FakeProcess[] = []
  /** "stop api#0", "end api#0 stopped", "kill db#0": what happened, in order. */
  readonly log: string[] = []
  /** Decides how each launched process behaves; `nth` counts launches of that unit and instance from 0. */
  behaviour: (unit: Unit, instance: number, nth: number) => Behaviour = () => ({})
  private owner?: RunOwner
  private readonly records = new Map<string, RunRecord>()

  constructor(private readonly clock: FakeClock) {}

  /** Follows the owner's events, so processes know their runs' records and end reasons. */
  attach(owner: RunOwner): void {
    this.owner = owner
    const seen = (record: RunRecord) => this.records.set(record.id, record)
    owner.on('run.created', seen)
    owner.on('run.started', seen)
    owner.on('run.ended', (record: RunRecord) => {
      seen(record)
      const proc = this.processes.find((p) => p.spec.runId === record.id)
      if (!proc) return
      proc.endedAt = Date.parse(record.ended_at!)
      proc.endReason = record.end_reason!
      proc.fatal = record.end_reason === 'start_failed'
      this.log.push(`end ${proc.service}#${record.instance_index ?? -1} ${record.end_reason}`)
    })
  }

  /** Launch times of one unit's processes (optionally of one instance). */
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

  launch(spec: LaunchSpec, onEvent: (event: ProcessEvent) => void): ProcessControl {
    const {clock, log, records} = this
    const run = (): Run | undefined => this.owner?.get(spec.runId)
    const service = spec.env.run.task
    const instance = spec.env.run.instance ?? -1
    const behaviour = this.behaviour(run()!.unit, instance, this.of(service, instance).length)
    const launchedAt = clock.now()
    const pid = 10_000 + this.processes.length
    let alive = true
    const timers: {cancel(): void}[] = []
    const proc: FakeProcess = {
      spec,
      get run() {
        return {record: run()?.record ?? records.get(spec.runId)!}
      },
      service,
      instance,
      pid,
      launchedAt,
      signals: [],
      get alive() {
        return alive
      },
      exit(exitCode, signal = null) {
        if (!alive) return
        alive = false
        for (const t of timers) t.cancel()
        onEvent({type: 'exited', exitCode, signal, pid, exitedAt: clock.now(), logBytes: 0})
      },
    }
    this.processes.push(proc)
    const noteStop = () => {
      if (proc.stopRequestedAt !== undefined) return
      proc.stopRequestedAt = clock.now()
      proc.stopCause = run()?.stopping
      log.push(`stop ${service}#${instance}`)
    }
    const start = () => {
      if (behaviour.startError !== undefined) {
        alive = false
        onEvent({type: 'exited', startError: behaviour.startError, exitCode: null, signal: null, pid: null, exitedAt: clock.now(), logBytes: 0})
        return
      }
      started = true
      onEvent({type: 'started', pid, processStart: null})
      if (behaviour.exitAfterMs !== undefined) timers.push(clock.setTimer(behaviour.exitAfterMs, () => proc.exit(behaviour.exitCode ?? 1)))
    }
    let started = false
    // A real launcher reports the start after launch() has returned.
    if (behaviour.startAfterMs) timers.push(clock.setTimer(behaviour.startAfterMs, start))
    else queueMicrotask(start)
    return {
      signal: (signal) => {
        if (!alive || !started) throw new Error('a signal before the process is known to exist')
        proc.signals.push(signal)
        noteStop()
        const takes = behaviour.stopTakesMs ?? 0
        if (takes === Number.POSITIVE_INFINITY) return
        if (takes === 0) queueMicrotask(() => proc.exit(null, signal))
        else timers.push(clock.setTimer(takes, () => proc.exit(null, signal)))
      },
      kill: () => {
        if (!started) throw new Error('a kill before the process is known to exist')
        if (!alive) return
        proc.signals.push('SIGKILL')
        noteStop()
        proc.killedAt = clock.now()
        log.push(`kill ${service}#${instance}`)
        proc.exit(null, 'SIGKILL')
      },
    }
  }

  async close(): Promise<void> {}
}

/** Run records in memory, in write order: what a test can check was written, and when. */
export class MemoryRecords implements RecordWriter {
  readonly writes: {at: number; record: RunRecord}[] = []
  constructor(private readonly clock: FakeClock) {}

  /** Set to an error (ENOSPC…) to have every write refused, as a full disk would. */
  refuse?: NodeJS.ErrnoException

  /** Also a RecordSink (under DurableRecords): a write is durable and visible at once. */
  async save(record: RunRecord, _previous?: RunEntry, onDurable?: () => void): Promise<RunEntry> {
    if (this.refuse) {
      // The journal took it and only its own file was refused: durable all the same.
      if (this.refuse instanceof FileNotWritten) onDurable?.()
      throw this.refuse
    }
    this.writes.push({at: this.clock.now(), record})
    onDurable?.()
    return entryOf(record)
  }

  attempt(record: RunRecord, previous?: RunEntry, onDurable?: () => void): Promise<RunEntry> {
    return this.save(record, previous, onDurable)
  }

  /** The statuses written for one run, in order ("pending", "running", "ended:success"). */
  history(id: string): string[] {
    return this.writes.filter((w) => w.record.id === id).map((w) => (w.record.status === 'ended' ? `ended:${w.record.end_reason}` : w.record.status))
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
