import {type ChildProcess, spawn} from 'node:child_process'
import {statSync} from 'node:fs'
import type {Clock, TimerHandle} from '../../core/clock.js'
import {NS, formatDuration} from '../../core/duration.js'
import type {Unit} from '../../core/types.js'
import {processStart} from '../../state/process-identity.js'
import type {StopCause} from '../end-reason.js'
import {LogWriter} from '../logs/log-writer.js'
import type {Account} from './accounts.js'
import {groupAlive, killRun, signalGroup} from './process-group.js'

/**
 * How long pipes may stay open after the main process exits. A grandchild that left the group
 * but kept stdout must not keep the run alive; a normal exit closes them at once.
 */
const DRAIN_GRACE_MS = 200

export interface AttemptOptions {
  readonly runId: string
  readonly unit: Unit
  /** The script's positional parameters. */
  readonly args: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly logPath: string
  readonly secrets: readonly string[]
  readonly account?: Account
  readonly clock: Clock
}

export interface AttemptOutcome {
  /** Set when the process never started; the reason is also in the log. */
  readonly startError?: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stop?: StopCause
  readonly shutdownExpired: boolean
  readonly pid: number | null
  readonly startedAt: number
  readonly endedAt: number
  readonly logBytes: number
  readonly logError?: string
}

const STOP_WHY: Record<StopCause, string> = {
  operator: 'stopped by an operator',
  terminate: 'terminated to make room for a newer run (on_overlap = "terminate")',
  service: 'service stopping',
  reload: 'config reloaded',
  shutdown: 'daemon shutting down',
  timeout: 'timeout reached',
  log_overflow: 'log reached log_max_size (log_on_full = "kill_task")',
}

/**
 * One attempt of one run: a process group started with `<shell> -c <run> sched <args…>`, its
 * output captured, stopped with the unit's ladder when asked, and reported as data when it is
 * over — never as an exception.
 */
export class Attempt {
  readonly done: Promise<AttemptOutcome>
  pid: number | null = null
  processStart: string | undefined
  private child?: ChildProcess
  private stopCause?: StopCause
  private shutdownExpired = false
  private exited = false
  private timers: TimerHandle[] = []
  private resolveDone!: (outcome: AttemptOutcome) => void

  private constructor(
    private readonly options: AttemptOptions,
    readonly writer: LogWriter,
    readonly startedAt: number,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve))
  }

  static async start(options: AttemptOptions): Promise<Attempt> {
    const {unit, clock} = options
    const writer = await LogWriter.open({
      path: options.logPath,
      maxSize: unit.log_max_size,
      onFull: unit.log_on_full,
      secrets: options.secrets,
      now: () => clock.now(),
      onOverflow: () => attempt.stop('log_overflow'),
    })
    const attempt: Attempt = new Attempt(options, writer, clock.now())
    attempt.launch()
    return attempt
  }

  /** Starts the stop ladder: stop_signal to the group, SIGKILL after graceful_stop. */
  stop(cause: StopCause): void {
    if (this.exited || this.stopCause) return
    this.stopCause = cause
    const {unit} = this.options
    const pid = this.pid
    if (pid === null) return
    const signal = unit.stop_signal
    const grace = unit.graceful_stop / NS.ms
    if (signal === 'SIGKILL' || grace === 0) {
      this.writer.system(`[sched] ${STOP_WHY[cause]}; sending SIGKILL to the process group`)
      killRun(this.options.runId, pid, pid)
      return
    }
    this.writer.system(`[sched] ${STOP_WHY[cause]}; sending ${signal} to the process group (SIGKILL in ${formatDuration(unit.graceful_stop)})`)
    signalGroup(pid, signal)
    this.timers.push(
      this.options.clock.setTimer(grace, () => {
        if (this.exited) return
        this.writer.system(`[sched] still running ${formatDuration(unit.graceful_stop)} after ${signal}; sending SIGKILL`)
        killRun(this.options.runId, pid, pid)
      }),
    )
  }

  /** Shutdown ran out of time: kill now; the run ends daemon_stopped. */
  kill(): void {
    if (this.exited) return
    this.stopCause ??= 'shutdown'
    this.shutdownExpired = true
    if (this.pid !== null) {
      this.writer.system('[sched] daemon shutdown_timeout ran out; sending SIGKILL')
      killRun(this.options.runId, this.pid, this.pid)
    }
  }

  private launch(): void {
    const {unit, account} = this.options
    const cwd = unit.working_dir || undefined
    if (cwd && !isDirectory(cwd)) {
      this.failToStart(`working_dir ${cwd} does not exist or is not a directory`)
      return
    }
    const previousUmask = unit.umask ? process.umask(Number.parseInt(unit.umask, 8)) : undefined
    let child: ChildProcess
    try {
      // The umask is inherited at fork, which happens inside spawn(): set it just around it.
      child = spawn(unit.shell, ['-c', unit.run, 'sched', ...this.options.args], {
        cwd,
        env: this.options.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        uid: account?.uid,
        gid: account?.gid,
      })
    } catch (error) {
      this.failToStart(`cannot start ${unit.shell}: ${(error as Error).message}`)
      return
    } finally {
      if (previousUmask !== undefined) process.umask(previousUmask)
    }
    this.child = child
    if (child.pid === undefined) {
      child.once('error', (error) => this.failToStart(`cannot start ${unit.shell}: ${error.message}`))
      return
    }
    // Errors after the spawn (a failed signal through the handle) must not crash the daemon;
    // the run's outcome comes from 'exit'.
    child.on('error', () => {})
    this.pid = child.pid
    this.processStart = processStart(child.pid)
    this.capture(child)
    if (unit.timeout > 0) {
      this.timers.push(this.options.clock.setTimer(unit.timeout / NS.ms, () => this.stop('timeout')))
    }
    child.once('exit', (code, signal) => void this.finish(code, signal))
  }

  private capture(child: ChildProcess): void {
    for (const [stream, source] of [['stdout', child.stdout!], ['stderr', child.stderr!]] as const) {
      source.on('data', (chunk: Buffer) => {
        if (!this.writer.write(stream, chunk)) {
          source.pause()
          this.writer.once('drain', () => source.resume())
        }
      })
      source.on('error', () => {})
    }
  }

  private async finish(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.exited = true
    const endedAt = this.options.clock.now()
    for (const t of this.timers) t.cancel()
    const child = this.child!
    const pid = this.pid!
    const closed = Promise.all([child.stdout!, child.stderr!].map((s) => (s.closed || s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r())))))
    const drained = await Promise.race([closed.then(() => true), delay(DRAIN_GRACE_MS).then(() => false)])
    // No process outlives its run: what is left in the group, and any descendant that left it
    // but still holds the pipes, is killed now.
    if (!drained) {
      const n = killRun(this.options.runId, pid, pid)
      this.writer.system(`[sched] output pipes still held after the process exited; killed ${n} leftover process${n === 1 ? '' : 'es'}`)
      child.stdout!.destroy()
      child.stderr!.destroy()
    } else {
      // Pipes closed is not enough: a descendant that left the group (setsid) with its own
      // stdio is found only by its SCHED_RUN_ID, and must not outlive the run either.
      const n = killRun(this.options.runId, groupAlive(pid) ? pid : null, pid)
      if (n > 0) this.writer.system(`[sched] killed ${n} leftover process${n === 1 ? '' : 'es'} after the process exited`)
    }
    await this.writer.close()
    this.resolveDone({
      exitCode: code,
      signal,
      stop: this.stopCause,
      shutdownExpired: this.shutdownExpired,
      pid,
      startedAt: this.startedAt,
      endedAt,
      logBytes: this.writer.bytes,
      logError: this.writer.error,
    })
  }

  private failToStart(reason: string): void {
    this.exited = true
    this.writer.system(`[sched] could not start: ${reason}`)
    const now = this.options.clock.now()
    void this.writer.close().then(() =>
      this.resolveDone({
        startError: reason,
        exitCode: null,
        signal: null,
        stop: this.stopCause,
        shutdownExpired: false,
        pid: null,
        startedAt: this.startedAt,
        endedAt: now,
        logBytes: this.writer.bytes,
        logError: this.writer.error,
      }),
    )
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
