import {chmodSync, mkdirSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join, resolve} from 'node:path'
import {SchedError, errorMessage} from '../core/errors.js'

export interface StateDirOptions {
  readonly flag?: string
  readonly env?: NodeJS.ProcessEnv
  /** `[daemon] state_dir`, already resolved against the config file. */
  readonly configured?: string
  readonly home?: string
  readonly isRoot?: boolean
  readonly cwd?: string
}

/**
 * The state directory (SPEC §6): --state-dir, else SCHED_STATE_DIR, else `[daemon] state_dir`,
 * else /var/lib/sched as root, else $XDG_STATE_HOME/sched (~/.local/state/sched).
 */
export function resolveStateDir(options: StateDirOptions = {}): string {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  if (options.flag) return resolve(cwd, options.flag)
  if (env.SCHED_STATE_DIR) return resolve(cwd, env.SCHED_STATE_DIR)
  if (options.configured) return options.configured
  if (options.isRoot ?? process.getuid?.() === 0) return '/var/lib/sched'
  return join(env.XDG_STATE_HOME || join(options.home ?? homedir(), '.local', 'state'), 'sched')
}

/** Creates the directory (0700) if it is missing; fails with what to do when it cannot. */
export function ensureStateDir(dir: string): void {
  try {
    const existed = isDirectory(dir)
    mkdirSync(dir, {recursive: true, mode: 0o700})
    if (!existed) chmodSync(dir, 0o700)
  } catch (error) {
    throw new SchedError(`cannot create the state directory ${dir}: ${errorMessage(error)}`, {
      hint: 'pass --state-dir or set SCHED_STATE_DIR to a directory you can write',
    })
  }
}

export function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}
