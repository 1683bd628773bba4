import {mkdirSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import {errorMessage} from '../../core/errors.js'
import {processStart} from '../../state/process-identity.js'
import {LogWriter} from '../../logs/writer.js'
import {composeEnv} from '../env.js'
import {type Account, resolveAccount} from './accounts.js'
import {nodeSpawn, type SpawnChild, type SpawnedChild} from './child-spawn.js'
import type {LaunchSpec, ProcessControl, ProcessEvent} from './launch.js'
import {LeftoverSweep} from './leftover-sweep.js'
import {killRun, signalGroup} from './process-group.js'

/**
 * How long pipes may stay open after the main process exits. A grandchild that left the group
 * but kept stdout must not keep the run alive; a normal exit closes them at once.
 */
const DRAIN_GRACE_MS = 200

/** Receives every frame the log stores, for a caller that shows output live (foreground trigger). */
export type FrameSink = (stream: 'stdout' | 'stderr' | 'system', payload: Buffer) => void

/**
 * Starts and watches processes: `<shell> -c <script> sched <args…>` in its own process group,
 * output captured into the run's log, leftovers killed when the main process exits, and the end
 * reported as data, never thrown. It decides nothing: stopping, timeouts and end reasons belong
 * to the run's owner, which sends signals through the returned control. Runs in a spawner process
 * (spawner-launcher) or in the caller's (inline-launcher).
 */
export class ProcessRunner {
  /** Log folders known to exist: one mkdir per folder, not one per run. */
  private readonly dirs = new Set<string>()
  /** process.env reads through to the C library on every key: one plain copy serves every run. */
  private readonly daemonEnv: Readonly<Record<string, string | undefined>>
  /** Pids of this runner's processes that have not exited yet. */
  private readonly live = new Set<number>()
  private readonly sweep = new LeftoverSweep(this.live)
  private turns: Promise<void> = Promise.resolve()

  /**
   * @param spawnChild how processes start: Node's spawn by default; the spawn helper
   *   (child-spawn.ts) in a spawner, where thousands of runs start.
   */
  constructor(
    daemonEnv: Readonly<Record<string, string | undefined>>,
    private readonly spawnChild: SpawnChild = nodeSpawn,
  ) {
    this.daemonEnv = {...daemonEnv}
  }

  run(spec: LaunchSpec, emit: (event: ProcessEvent) => void, onFrame?: FrameSink): ProcessControl {
    const proc = new ProcessWatch(spec, emit, this.live, this.sweep, this.spawnChild)
    void this.start(proc, spec, onFrame)
    return proc
  }

  /**
   * Resolves when it is this spawn's turn: spawns go in arrival order, one per turn of the event
   * loop. Node's spawn blocks this process for milliseconds, and a burst of a thousand must not
   * hold back the exits and output of the runs already going.
   */
  private spawnTurn(): Promise<void> {
    this.turns = this.turns.then(nextTurn)
    return this.turns
  }

  private async start(proc: ProcessWatch, spec: LaunchSpec, onFrame?: FrameSink): Promise<void> {
    let writer: LogWriter
    try {
      const dir = dirname(spec.log.path)
      if (!this.dirs.has(dir)) {
        mkdirSync(dir, {recursive: true, mode: 0o700})
        this.dirs.add(dir)
      }
      writer = await LogWriter.open({
        path: spec.log.path,
        maxSize: spec.log.maxSize,
        onFull: spec.log.onFull,
        secrets: spec.log.secrets,
        onOverflow: () => proc.emit({type: 'overflow'}),
      })
    } catch (error) {
      proc.emit({type: 'exited', startError: errorMessage(error), exitCode: null, signal: null, pid: null, exitedAt: Date.now(), logBytes: 0})
      return
    }
    if (onFrame) writer.on('frame', (stream: 'stdout' | 'stderr' | 'system', _ts: number, payload: Buffer) => onFrame(stream, payload))
    let account: Account | undefined
    let env: Record<string, string>
    try {
      account = spec.user ? resolveAccount(spec.user) : undefined
      env = composeEnv({...spec.env, daemon: this.daemonEnv, account: account ? {HOME: account.home, USER: account.name, LOGNAME: account.name} : undefined})
    } catch (error) {
      proc.failToStart(writer, errorMessage(error))
      return
    }
    if (this.spawnChild === nodeSpawn) await this.spawnTurn()
    await proc.spawn(writer, env, account)
  }
}

/** One process from spawn to its reported exit. */
class ProcessWatch implements ProcessControl {
  private writer?: LogWriter
  private pid: number | null = null
  private exited = false

  constructor(
    private readonly spec: LaunchSpec,
    readonly emit: (event: ProcessEvent) => void,
    private readonly live: Set<number>,
    private readonly sweep: LeftoverSweep,
    private readonly spawnChild: SpawnChild,
  ) {}

  signal(signal: NodeJS.Signals, note: string): void {
    if (this.exited || this.pid === null) return
    this.writer?.system(note)
    signalGroup(this.pid, signal)
  }

  kill(note: string): void {
    if (this.exited || this.pid === null) return
    this.writer?.system(note)
    killRun(this.spec.runId, this.pid, this.pid)
  }

  async spawn(writer: LogWriter, env: Record<string, string>, account: Account | undefined): Promise<void> {
    this.writer = writer
    const {spec} = this
    const cwd = spec.cwd || undefined
    if (cwd && !isDirectory(cwd)) {
      this.failToStart(writer, `working_dir ${cwd} does not exist or is not a directory`)
      return
    }
    const argv = [spec.shell, '-c', spec.script, 'sched', ...spec.args]
    // process.umask() is process-wide (and would race other spawns in this process): a umask
    // is applied by /bin/sh, which then execs the shell in its place (same pid).
    const [file, ...args] = spec.umask ? ['/bin/sh', '-c', 'umask "$1" && shift && exec "$@"', 'sched-umask', spec.umask, ...argv] : argv
    let child: SpawnedChild
    try {
      child = await this.spawnChild({file, args, cwd, env, uid: account?.uid, gid: account?.gid})
    } catch (error) {
      this.failToStart(writer, `cannot start ${spec.shell}: ${errorMessage(error)}`)
      return
    }
    this.pid = child.pid
    this.live.add(child.pid)
    this.emit({type: 'started', pid: child.pid, processStart: processStart(child.pid) ?? null})
    this.capture(child, writer)
    child.onExit((code, signal) => void this.finish(child, writer, code, signal))
  }

  failToStart(writer: LogWriter, reason: string): void {
    this.exited = true
    writer.system(`[sched] could not start: ${reason}`)
    const exitedAt = Date.now()
    void writer.close().then(() =>
      this.emit({type: 'exited', startError: reason, exitCode: null, signal: null, pid: null, exitedAt, logBytes: writer.bytes, logError: writer.error}),
    )
  }

  private capture(child: SpawnedChild, writer: LogWriter): void {
    for (const [stream, source] of [['stdout', child.stdout], ['stderr', child.stderr]] as const) {
      source.on('data', (chunk: Buffer) => {
        if (!writer.write(stream, chunk)) {
          source.pause()
          writer.once('drain', () => source.resume())
        }
      })
      source.on('error', () => {})
    }
  }

  private async finish(child: SpawnedChild, writer: LogWriter, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const exitedAt = Date.now()
    this.exited = true
    const pid = this.pid!
    this.live.delete(pid)
    const closed = Promise.all([child.stdout, child.stderr].map((s) => (s.closed || s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r())))))
    const drained = await Promise.race([closed.then(() => true), delay(DRAIN_GRACE_MS).then(() => false)])
    // No process outlives its run: what is left in the group, and any descendant that left it
    // but still holds the pipes, is killed now.
    const n = await this.sweep.sweep(this.spec.runId, pid)
    if (!drained) {
      writer.system(`[sched] output pipes still held after the process exited; killed ${n} leftover process${n === 1 ? '' : 'es'}`)
      child.stdout.destroy()
      child.stderr.destroy()
    } else if (n > 0) {
      // Pipes closed is not enough: a descendant that left the group (setsid) with its own
      // stdio is found only by its SCHED_RUN_ID, and must not outlive the run either.
      writer.system(`[sched] killed ${n} leftover process${n === 1 ? '' : 'es'} after the process exited`)
    }
    await writer.close()
    this.emit({type: 'exited', exitCode: code, signal, pid, exitedAt, logBytes: writer.bytes, logError: writer.error})
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
