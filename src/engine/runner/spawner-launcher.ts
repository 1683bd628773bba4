import {type ChildProcess, fork} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import type {LaunchSpec, Launcher, ProcessControl, ProcessEvent} from './launch.js'
import {signalGroup} from './process-group.js'
import type {ToMain, ToSpawner} from './spawner-messages.js'

export interface SpawnerLauncherOptions {
  readonly daemonEnv: Readonly<Record<string, string | undefined>>
  /** Spawner processes at most [1]. */
  readonly size?: number
  /** A spawner with nothing to watch for this long is ended, so an idle daemon holds none [10s]. */
  readonly idleMs?: number
  /** The spawner script; by default spawner.js beside this module (the bundle in dist/). */
  readonly script?: URL
}

interface Spawner {
  readonly child: ChildProcess
  readonly runs: Map<string, {onEvent: (event: ProcessEvent) => void; pid: number | null}>
  idle?: NodeJS.Timeout
}

/**
 * Starts processes through small spawner processes (spawner.ts), so that fork + exec, pipe
 * reading and log writing never block the daemon's event loop — and so that each fork copies
 * the page tables of a small process, not of the daemon with whatever its heap grew to (a worker
 * thread shares the daemon's: measured under a 1,000-task per-second load, a thread started 474
 * runs in 20 s and the daemon acted on ticks 683 ms late at p99, a spawner process 777 runs and
 * 139 ms). Spawners start on demand and end when idle. One that dies takes nothing with it: the
 * processes it watched are killed and reported ended. One whose daemon died exits, leaving the
 * runs to the next boot's recovery.
 */
export class SpawnerLauncher implements Launcher {
  private readonly spawners: Spawner[] = []
  private readonly size: number
  private readonly idleMs: number
  private readonly script: string
  private closeWaiters: (() => void)[] = []

  constructor(private readonly options: SpawnerLauncherOptions) {
    this.size = Math.max(1, options.size ?? 1)
    this.idleMs = options.idleMs ?? 10_000
    this.script = fileURLToPath(options.script ?? new URL('./spawner.js', import.meta.url))
  }

  launch(spec: LaunchSpec, onEvent: (event: ProcessEvent) => void): ProcessControl {
    const spawner = this.pick()
    const id = spec.runId
    spawner.runs.set(id, {onEvent, pid: null})
    clearTimeout(spawner.idle)
    spawner.idle = undefined
    send(spawner, {op: 'start', spec})
    return {
      signal: (signal, note) => send(spawner, {op: 'signal', id, signal, note}),
      kill: (note) => send(spawner, {op: 'kill', id, note}),
    }
  }

  /** Resolves once every process has been reported ended; the spawners are ended then. */
  async close(): Promise<void> {
    if (this.spawners.some((s) => s.runs.size > 0)) await new Promise<void>((resolve) => this.closeWaiters.push(resolve))
    await Promise.all(this.spawners.splice(0).map((s) => end(s)))
  }

  /** Runs watched now, for tests and metrics. */
  get active(): number {
    return this.spawners.reduce((n, s) => n + s.runs.size, 0)
  }

  /** The least busy spawner; a new one while the pool is not full and every spawner is busy. */
  private pick(): Spawner {
    let best: Spawner | undefined
    for (const s of this.spawners) if (!best || s.runs.size < best.runs.size) best = s
    if (best && (best.runs.size === 0 || this.spawners.length >= this.size)) return best
    return this.start()
  }

  private start(): Spawner {
    // The daemon's environment is the spawner's own: every run is given a copy of it. Its own
    // process group: a Ctrl-C or hang-up meant for a daemon in a terminal must reach the daemon
    // alone, which then stops the runs with their ladders (the spawner ends with the daemon).
    const child = fork(this.script, [], {env: {...this.options.daemonEnv}, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], detached: true})
    const spawner: Spawner = {child, runs: new Map()}
    this.spawners.push(spawner)
    child.on('message', (message: ToMain) => this.received(spawner, message))
    child.on('error', (error) => this.lost(spawner, `the process spawner failed: ${error.message}`))
    child.on('exit', (code, signal) => this.lost(spawner, `the process spawner exited (${signal ?? `code ${code}`})`))
    return spawner
  }

  private received(spawner: Spawner, {id, event}: ToMain): void {
    const run = spawner.runs.get(id)
    if (!run) return
    if (event.type === 'started') run.pid = event.pid
    if (event.type === 'exited') this.forget(spawner, id)
    run.onEvent(event)
  }

  private forget(spawner: Spawner, id: string): void {
    spawner.runs.delete(id)
    if (spawner.runs.size > 0) return
    if (this.closeWaiters.length && this.active === 0) for (const resolve of this.closeWaiters.splice(0)) resolve()
    if (!this.spawners.includes(spawner)) return
    spawner.idle = setTimeout(() => {
      const i = this.spawners.indexOf(spawner)
      if (spawner.runs.size > 0 || i === -1) return
      this.spawners.splice(i, 1)
      spawner.child.removeAllListeners('exit')
      void end(spawner)
    }, this.idleMs)
    spawner.idle.unref()
  }

  /** A spawner died (a bug, or out of memory): its processes are killed and reported ended. */
  private lost(spawner: Spawner, why: string): void {
    const i = this.spawners.indexOf(spawner)
    if (i === -1) return
    this.spawners.splice(i, 1)
    clearTimeout(spawner.idle)
    for (const [id, run] of [...spawner.runs]) {
      if (run.pid !== null) signalGroup(run.pid, 'SIGKILL')
      this.forget(spawner, id)
      run.onEvent({type: 'exited', exitCode: null, signal: run.pid === null ? null : 'SIGKILL', pid: run.pid, exitedAt: Date.now(), logBytes: 0, logError: why, ...(run.pid === null ? {startError: why} : {})})
    }
  }
}

function send(spawner: Spawner, message: ToSpawner): void {
  // A spawner that is gone is reported by 'exit'; a message into it is not an error of its own.
  if (spawner.child.connected) spawner.child.send(message, () => {})
}

async function end(spawner: Spawner): Promise<void> {
  const {child} = spawner
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.disconnect()
  await exited
}
