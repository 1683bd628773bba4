import {unlinkSync} from 'node:fs'
import {ExitCode, SchedError} from '../core/errors.js'
import {VERSION} from '../core/version.js'
import {writeFileAtomicSync} from './atomic.js'
import {STATE_FORMAT, readStateFile} from './json-file.js'
import type {StateLayout} from './layout.js'
import {ensureStateDir} from './location.js'
import {identify, isSameProcess} from './process-identity.js'

/** Who is serving a state directory. Written by the claimant, read by every command. */
export interface DaemonInfo {
  readonly v: number
  readonly pid: number
  readonly start: string
  /** `serve` for the daemon; `foreground` for a `sched trigger` running a task with no daemon. */
  readonly mode: 'serve' | 'foreground'
  readonly started_at: string
  readonly version: string
  readonly config_path: string
  readonly state_dir: string
  readonly url?: string
  readonly command?: string
}

/** The live claimant of the state directory, if any. A record left by a dead process is ignored. */
export function liveDaemon(layout: StateLayout): DaemonInfo | undefined {
  let info: DaemonInfo | undefined
  try {
    info = readStateFile<DaemonInfo>(layout.daemonFile)
  } catch {
    return undefined
  }
  if (!info || typeof info.pid !== 'number') return undefined
  return isSameProcess({pid: info.pid, start: info.start ?? ''}) ? info : undefined
}

export class StateClaim {
  private released = false

  constructor(
    private readonly layout: StateLayout,
    private current: DaemonInfo,
  ) {}

  get info(): DaemonInfo {
    return this.current
  }

  update(patch: Partial<Omit<DaemonInfo, 'v' | 'pid' | 'start'>>): void {
    this.current = {...this.current, ...patch}
    writeFileAtomicSync(this.layout.daemonFile, JSON.stringify(this.current))
  }

  /** Gives the directory up; only removes the record if it is still ours. */
  release(): void {
    if (this.released) return
    this.released = true
    const onDisk = liveDaemon(this.layout)
    if (onDisk && onDisk.pid !== process.pid) return
    try {
      unlinkSync(this.layout.daemonFile)
    } catch {
      // already gone
    }
  }
}

/**
 * Claims the state directory for this process, creating it if need be: exactly one daemon (or
 * foreground trigger) may write it. The check-and-write runs under a lock so two claimants cannot both win.
 */
export async function claimStateDir(
  layout: StateLayout,
  info: Pick<DaemonInfo, 'mode' | 'config_path' | 'command'>,
): Promise<StateClaim> {
  ensureStateDir(layout.root)
  let unlock: () => Promise<void>
  try {
    // Loaded here, not at the top: only commands that claim the directory pay for it (and
    // graceful-fs, which it patches in).
    // Through `default`: a CommonJS module, whose named exports a split bundle does not re-export.
    const {default: lockfile} = await import('proper-lockfile')
    unlock = await lockfile.lock(layout.root, {
      lockfilePath: layout.claimLock,
      realpath: false,
      stale: 10_000,
      retries: {retries: 25, minTimeout: 20, maxTimeout: 200},
      onCompromised: () => {},
    })
  } catch (error) {
    throw new SchedError(`state directory ${layout.root} is busy (${(error as Error).message})`, {exit: ExitCode.busy})
  }
  try {
    const live = liveDaemon(layout)
    if (live) {
      const what = live.mode === 'serve' ? `sched serve (pid ${live.pid}, since ${live.started_at})` : `${live.command ?? 'a foreground sched trigger'} (pid ${live.pid})`
      throw new SchedError(`state directory ${layout.root} is in use by ${what}`, {
        exit: ExitCode.busy,
        hint: live.mode === 'serve' ? 'stop that daemon first, or use another --state-dir' : 'wait for it to finish, or use another --state-dir',
      })
    }
    const me = identify(process.pid)!
    const full: DaemonInfo = {v: STATE_FORMAT, pid: me.pid, start: me.start, started_at: new Date().toISOString(), version: VERSION, state_dir: layout.root, ...info}
    writeFileAtomicSync(layout.daemonFile, JSON.stringify(full))
    return new StateClaim(layout, full)
  } finally {
    await unlock()
  }
}
