import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {it as baseIt} from 'vitest'
import {processesOfRuns} from '../../src/engine/runner/process-group.js'
import {StateLayout} from '../../src/state/layout.js'
import type {LogLine} from '../../src/logs/format.js'
import {readLogPage} from '../../src/logs/reader.js'
import type {RunRecord} from '../../src/state/run-record.js'
import {RunStore} from '../../src/state/runs.js'
import {type CliResult, type Daemon, ROOT, runCli, startDaemon, tempDir} from './cli.js'

/** Real-process tests: fixture programs, polling, and a temp config + state dir with its daemon. */

export const FIXTURES = join(ROOT, 'test', 'fixtures')

export function fixture(name: string): string {
  return join(FIXTURES, name)
}

/** A TOML basic string (paths and script text go into generated configs). */
export function q(text: string): string {
  return JSON.stringify(text)
}

/** Polls until `check` returns something other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`)
    await sleep(25)
  }
}

/** An oclif error message as one line: it wraps long messages, continuing each line with " ›". */
export function unwrap(stderr: string): string {
  return stderr.replace(/\s*\n\s*›\s*/g, ' ').trim()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Whether a process exists and has not exited. A killed orphan stays a zombie until init reaps
 * it, and kill(pid, 0) still succeeds on a zombie, so the state in /proc decides.
 */
export function alive(pid: number): boolean {
  // A pid that failed to parse must fail the test, not pass it as "gone".
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a pid: ${pid}`)
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** SIGKILLs a process this test started (cleanup after a failed assertion); gone is fine. */
export function killQuietly(pid: number | undefined): void {
  if (!pid) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

export function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

/**
 * A temp directory with a sched.toml and a state dir, the daemon serving it, and the pids of
 * test processes to kill at the end. `dispose()` always stops the daemon and removes the files.
 */
export class Sandbox {
  readonly dir = tempDir('sched-e2e-')
  readonly config = join(this.dir.path, 'sched.toml')
  readonly state = join(this.dir.path, 'state')
  readonly layout = new StateLayout(this.state)
  readonly store = new RunStore(this.layout)
  daemon?: Daemon
  /** Processes the test learnt about (fixture children): SIGKILLed on dispose, whatever happened. */
  readonly pids = new Set<number>()

  path(name: string): string {
    return join(this.dir.path, name)
  }

  write(toml: string): void {
    writeFileSync(this.config, toml)
  }

  /** Writes the config (text, or made from the sandbox for paths inside it); returns this. */
  with(toml: string | ((b: Sandbox) => string)): this {
    this.write(typeof toml === 'string' ? toml : toml(this))
    return this
  }

  async start(env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
    this.daemon = await startDaemon(this.config, this.state, [], env)
    return this.daemon
  }

  /** Stops the daemon with `signal` and resolves with its exit code (null if none was running). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const d = this.daemon
    this.daemon = undefined
    return d ? d.stop(signal) : null
  }

  cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
    return runCli([...args, '-c', this.config, '--state-dir', this.state], {env})
  }

  /** `sched trigger TASK [args]` through the state dir; resolves with the run id it printed. */
  async trigger(task: string, args: readonly string[] = []): Promise<string> {
    const res = await this.cli(['trigger', task, ...args])
    const m = /(?:started|queued) run (\S+) of /.exec(res.stdout)
    if (res.code !== 0 || !m) throw new Error(`sched trigger ${task} failed (${res.code}):\n${res.stdout}\n${res.stderr}`)
    return m[1]
  }

  /** Every run of a task (or of all units), oldest first (ids sort by creation). */
  runs(task?: string): RunRecord[] {
    const entries = task ? this.store.list(task) : this.store.listAll()
    return entries.map((e) => this.store.readSync(e)).filter((r): r is RunRecord => r !== undefined)
  }

  run(task: string, id: string): RunRecord | undefined {
    const entry = this.store.list(task).find((e) => e.id === id)
    return entry && this.store.readSync(entry)
  }

  /** Waits until the run is `ended` on disk and returns its final record. */
  ended(task: string, id: string, timeoutMs = 5000): Promise<RunRecord> {
    return until(() => {
      const r = this.run(task, id)
      return r?.status === 'ended' ? r : undefined
    }, timeoutMs, `run ${id} of ${task} to end`)
  }

  async log(task: string, id: string): Promise<LogLine[]> {
    return (await readLogPage(this.layout.logFile(task, id), {from: 0, limit: 10_000})).lines
  }

  async logText(task: string, id: string): Promise<string> {
    return (await this.log(task, id)).map((l) => l.text).join('\n')
  }

  exists(name: string): boolean {
    return existsSync(this.path(name))
  }

  /**
   * Live processes of this sandbox's runs (found by the SCHED_RUN_ID in their environment), so
   * that a failed test cannot leave a fixture looping after its daemon was killed.
   */
  leftovers(): number[] {
    let ids: Set<string>
    try {
      ids = new Set(this.store.listAll().map((e) => e.id))
    } catch {
      return []
    }
    if (ids.size === 0) return []
    // The daemon's own search: every process whose environment names one of these runs.
    return [...processesOfRuns([...ids].map((runId) => ({runId, pgid: null}))).values()].flat()
  }

  /**
   * Stops the daemon, kills what the test left behind and removes the files. Throws when a
   * process of a run outlived the daemon's shutdown (SPEC §3: no process outlives its run).
   */
  async dispose(): Promise<void> {
    let outlived: number[] = []
    try {
      const d = this.daemon
      this.daemon = undefined
      if (d) {
        const exited = d.stop('SIGTERM')
        const timer = setTimeout(() => d.child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      outlived = this.leftovers()
      // A process SIGKILLed just now may take a moment to be torn down: look again.
      if (outlived.length) {
        await sleep(300)
        const still = new Set(this.leftovers())
        outlived = outlived.filter((pid) => still.has(pid))
      }
    } finally {
      for (const pid of [...this.pids, ...outlived]) killQuietly(pid)
      this.dir.cleanup()
    }
    if (outlived.length) throw new Error(`processes of runs still alive after the daemon stopped: ${outlived.join(', ')}`)
  }
}

/**
 * `it` with a `box` fixture: a fresh Sandbox per test, disposed of when the test finishes
 * whatever the outcome. Safe with concurrent tests, unlike global hooks.
 */
export const it = baseIt.extend<{box: Sandbox}>({
  box: async ({}, use) => {
    const b = new Sandbox()
    try {
      await use(b)
    } finally {
      await b.dispose()
    }
  },
})
