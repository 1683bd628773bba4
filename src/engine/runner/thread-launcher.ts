import {Worker} from 'node:worker_threads'
import type {LaunchSpec, Launcher, ProcessControl, ProcessEvent} from './launch.js'
import type {ToMain, ToWorker} from './thread-messages.js'

export interface ThreadLauncherOptions {
  readonly daemonEnv: Readonly<Record<string, string | undefined>>
  /**
   * Worker threads at most [1]. Two threads forking at once cost more than twice one: each fork
   * locks the whole address space, and the other threads' page faults wait for it (measured: 4.5
   * ms of CPU per spawn with one thread, 7.5 with two, for fewer spawns per second).
   */
  readonly size?: number
  /** A worker with nothing to watch for this long is ended, so an idle daemon holds no thread [10s]. */
  readonly idleMs?: number
  /** The worker script; by default spawn-worker.js beside this module (the bundle in dist/). */
  readonly workerUrl?: URL
}

interface Thread {
  readonly worker: Worker
  readonly runs: Map<string, {onEvent: (event: ProcessEvent) => void; pid: number | null}>
  idle?: NodeJS.Timeout
}

/**
 * Starts processes in a small pool of worker threads (spawn-worker.ts), so that fork + exec,
 * pipe reading and log writing never block the daemon's event loop. Threads start on demand and
 * end when idle. A thread that dies takes nothing with it: the processes it watched are killed
 * and reported ended.
 */
export class ThreadLauncher implements Launcher {
  private readonly threads: Thread[] = []
  private readonly size: number
  private readonly idleMs: number
  private readonly workerUrl: URL
  private closeWaiters: (() => void)[] = []

  constructor(private readonly options: ThreadLauncherOptions) {
    this.size = Math.max(1, options.size ?? 1)
    this.idleMs = options.idleMs ?? 10_000
    this.workerUrl = options.workerUrl ?? new URL('./spawn-worker.js', import.meta.url)
  }

  launch(spec: LaunchSpec, onEvent: (event: ProcessEvent) => void): ProcessControl {
    const thread = this.pick()
    const id = spec.runId
    thread.runs.set(id, {onEvent, pid: null})
    clearTimeout(thread.idle)
    thread.idle = undefined
    post(thread, {op: 'start', spec})
    return {
      signal: (signal, note) => post(thread, {op: 'signal', id, signal, note}),
      kill: (note) => post(thread, {op: 'kill', id, note}),
    }
  }

  /** Resolves once every process has been reported ended; the threads are ended then. */
  async close(): Promise<void> {
    if (this.threads.some((t) => t.runs.size > 0)) await new Promise<void>((resolve) => this.closeWaiters.push(resolve))
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()))
  }

  /** Runs watched now, for tests and metrics. */
  get active(): number {
    return this.threads.reduce((n, t) => n + t.runs.size, 0)
  }

  get threadCount(): number {
    return this.threads.length
  }

  /** The least busy thread; a new one while the pool is not full and every thread is busy. */
  private pick(): Thread {
    let best: Thread | undefined
    for (const t of this.threads) if (!best || t.runs.size < best.runs.size) best = t
    if (best && (best.runs.size === 0 || this.threads.length >= this.size)) return best
    return this.startThread()
  }

  private startThread(): Thread {
    const worker = new Worker(this.workerUrl, {workerData: {daemonEnv: {...this.options.daemonEnv}}})
    const thread: Thread = {worker, runs: new Map()}
    this.threads.push(thread)
    worker.on('message', (message: ToMain) => this.received(thread, message))
    worker.on('error', (error) => this.lost(thread, `the process runner thread failed: ${error.message}`))
    worker.on('exit', (code) => this.lost(thread, `the process runner thread exited (code ${code})`))
    return thread
  }

  private received(thread: Thread, {id, event}: ToMain): void {
    const run = thread.runs.get(id)
    if (!run) return
    if (event.type === 'started') run.pid = event.pid
    if (event.type === 'exited') this.forget(thread, id)
    run.onEvent(event)
  }

  private forget(thread: Thread, id: string): void {
    thread.runs.delete(id)
    if (thread.runs.size > 0) return
    if (this.closeWaiters.length && this.active === 0) for (const resolve of this.closeWaiters.splice(0)) resolve()
    if (!this.threads.includes(thread)) return
    thread.idle = setTimeout(() => {
      const i = this.threads.indexOf(thread)
      if (thread.runs.size > 0 || i === -1) return
      this.threads.splice(i, 1)
      thread.worker.removeAllListeners('exit')
      void thread.worker.terminate()
    }, this.idleMs)
    thread.idle.unref()
  }

  /** A thread died (a bug, or out of memory): its processes are killed and reported ended. */
  private lost(thread: Thread, why: string): void {
    const i = this.threads.indexOf(thread)
    if (i === -1) return
    this.threads.splice(i, 1)
    clearTimeout(thread.idle)
    for (const [id, run] of [...thread.runs]) {
      if (run.pid !== null) {
        try {
          process.kill(-run.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      this.forget(thread, id)
      run.onEvent({type: 'exited', exitCode: null, signal: run.pid === null ? null : 'SIGKILL', pid: run.pid, exitedAt: Date.now(), logBytes: 0, logError: why, ...(run.pid === null ? {startError: why} : {})})
    }
  }
}

function post(thread: Thread, message: ToWorker): void {
  thread.worker.postMessage(message)
}
