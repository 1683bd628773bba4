import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {resolve} from 'node:path'
import {Flags} from '@oclif/core'
import {SchedError} from '../core/errors.js'
import {type Scope, unitFilePath} from '../service/systemd-unit.js'

/** What `sched service install|uninstall|status` share: which unit, where, and running systemctl. */

export const serviceFlags = {
  user: Flags.boolean({summary: 'A user unit (~/.config/systemd/user), run by your own systemd --user manager.'}),
  root: Flags.string({summary: 'Work under this directory instead of / (a staging root): files only, systemctl is never run.'}),
  name: Flags.string({summary: 'The unit name.', default: 'sched'}),
}

export interface ServiceScope {
  readonly scope: Scope
  readonly name: string
  readonly unitFile: string
  /** systemctl can be run: systemd is the init here and no --root was given. */
  readonly live: boolean
}

export function serviceScope(flags: {user?: boolean; root?: string; name: string}): ServiceScope {
  const scope: Scope = flags.user ? 'user' : 'system'
  if (!/^[A-Za-z0-9:_.@-]+$/.test(flags.name)) throw new SchedError(`"${flags.name}" is not a systemd unit name`, {exit: 2, hint: 'use letters, digits, ":", "_", ".", "@" and "-"'})
  const root = flags.root === undefined ? '/' : resolve(flags.root)
  // sd_booted(3): systemd is the running init exactly when this directory exists.
  const live = flags.root === undefined && existsSync('/run/systemd/system')
  return {scope, name: flags.name, unitFile: unitFilePath(scope, flags.name, root, homedir(), process.env), live}
}

/** Runs each command in turn; the first that fails stops the rest, with what it said. */
export function runCommands(commands: readonly string[][]): void {
  for (const [program, ...args] of commands) {
    try {
      execFileSync(program, args, {stdio: ['ignore', 'pipe', 'pipe']})
    } catch (error) {
      const said = (error as {stderr?: Buffer}).stderr?.toString().trim()
      throw new SchedError(`${[program, ...args].join(' ')} failed${said ? `: ${said}` : ''}`, {hint: 'run it yourself to see why'})
    }
  }
}

/** A systemctl query's one-word answer ("active", "enabled", …), whatever its exit code. */
export function ask(command: readonly string[]): string {
  try {
    return execFileSync(command[0], command.slice(1), {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch (error) {
    return String((error as {stdout?: string}).stdout ?? '').trim() || 'unknown'
  }
}
