import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join, resolve} from 'node:path'
import {ExitCode, SchedError} from '../core/errors.js'

export interface LocateOptions {
  readonly flag?: string
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly home?: string
  readonly isRoot?: boolean
}

/**
 * The config file (SPEC §1): --config, else SCHED_CONFIG, else ./sched.toml, else
 * $XDG_CONFIG_HOME/sched/sched.toml (~/.config/…), else /etc/sched/sched.toml as root.
 * A path named explicitly must exist; the implicit places are tried in turn.
 */
export function locateConfig(options: LocateOptions = {}): string {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const explicit = options.flag ?? (env.SCHED_CONFIG || undefined)
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit)
    if (!existsSync(path)) {
      const via = options.flag === undefined ? 'SCHED_CONFIG' : '--config'
      throw new SchedError(`config file ${path} (from ${via}) does not exist`, {hint: 'check the path, or create the file (an empty file is a valid config)'})
    }
    return path
  }
  const candidates = implicitCandidates(env, cwd, options.home ?? homedir(), options.isRoot ?? process.getuid?.() === 0)
  const found = candidates.find((c) => existsSync(c))
  if (found) return found
  throw new SchedError(`no config file found; looked for ${candidates.join(', ')}`, {
    exit: ExitCode.failure,
    hint: 'create sched.toml here, or pass --config PATH (see examples/sched.toml)',
  })
}

function implicitCandidates(env: NodeJS.ProcessEnv, cwd: string, home: string, isRoot: boolean): string[] {
  const xdg = env.XDG_CONFIG_HOME || join(home, '.config')
  const out = [join(cwd, 'sched.toml'), join(xdg, 'sched', 'sched.toml')]
  if (isRoot) out.push('/etc/sched/sched.toml')
  return out
}
