import type {LogOnFull} from '../../core/types.js'
import type {EnvLayers} from '../env.js'

/**
 * The seam between a run's owner (main thread: records, timers, decisions) and whatever starts
 * its process (in this process, or in a spawner process so that spawn() never blocks the event loop).
 * Everything in a LaunchSpec is plain data: it crosses a process boundary as a message.
 */
export interface LaunchSpec {
  readonly runId: string
  readonly shell: string
  readonly script: string
  /** The script's positional parameters. */
  readonly args: readonly string[]
  /**
   * The run's environment above the daemon's: the layers composeEnv (env.ts) puts together where
   * the process starts, with the daemon's environment and the account of `user`.
   */
  readonly env: Omit<EnvLayers, 'daemon' | 'account'>
  readonly cwd?: string
  /**
   * A cluster service instance: killed when the daemon dies, because its slot's lease dies with
   * the daemon and another node will start the instance. Other runs outlive a daemon crash and
   * are the next boot's (recovery kills them).
   */
  readonly diesWithDaemon?: boolean
  /** `user` or `user:group`, resolved where the process starts (getent is a blocking call). */
  readonly user?: string
  /** Octal string, e.g. "027". */
  readonly umask?: string
  readonly log: {
    readonly path: string
    readonly maxSize: number
    readonly onFull: LogOnFull
    /** Values masked as `[redacted]` in the log. */
    readonly secrets: readonly string[]
  }
}

export type ProcessEvent =
  | {readonly type: 'started'; readonly pid: number; readonly processStart: string | null}
  /** log_on_full = "kill_task" tripped: the owner decides to stop the run. */
  | {readonly type: 'overflow'}
  | ({readonly type: 'exited'} & ProcessExit)

export interface ProcessExit {
  /** Set when the process never started; the reason is also in the log. */
  readonly startError?: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly pid: number | null
  /** Epoch ms when the main process exited (or failed to start). */
  readonly exitedAt: number
  readonly logBytes: number
  readonly logError?: string
}

/** What the owner can do to a started process. Each call writes `note` into the run's log first. */
export interface ProcessControl {
  /** Sends `signal` to the whole process group. */
  signal(signal: NodeJS.Signals, note: string): void
  /** SIGKILLs the group and every descendant that left it (found by SCHED_RUN_ID). */
  kill(note: string): void
}

export interface Launcher {
  launch(spec: LaunchSpec, onEvent: (event: ProcessEvent) => void): ProcessControl
  /** Resolves once every process it started has been reported `exited`; ends its spawners. */
  close(): Promise<void>
}
