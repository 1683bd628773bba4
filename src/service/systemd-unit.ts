import {join} from 'node:path'
import {NS} from '../core/duration.js'

/**
 * The systemd unit that runs `sched serve` (SPEC §10), and where it lives. Pure: the command
 * gathers the facts (paths, the config's shutdown_timeout, system or user scope) and writes.
 */

export type Scope = 'system' | 'user'

export interface UnitFacts {
  readonly scope: Scope
  /** Absolute path of the node binary. */
  readonly node: string
  /** Absolute path of sched's bin/run.js. */
  readonly sched: string
  /** Absolute path of the config file. */
  readonly config: string
  /** `--state-dir` given at install; otherwise the config's own, or systemd's StateDirectory. */
  readonly stateDir?: string
  /** Whether the config sets [daemon] state_dir (then systemd's StateDirectory is not used). */
  readonly configHasStateDir: boolean
  /** [daemon] shutdown_timeout, in nanoseconds. */
  readonly shutdownTimeout: number
}

/** What systemd allows beyond shutdown_timeout before it SIGKILLs what is left. */
const STOP_MARGIN_S = 10

export function systemdUnit(f: UnitFacts): string {
  const exec = [f.node, f.sched, 'serve', '-c', f.config, '--log-format', 'json'].map(systemdQuote)
  const ownStateDir = f.stateDir === undefined && !f.configHasStateDir
  if (f.stateDir !== undefined) exec.push('--state-dir', systemdQuote(f.stateDir))
  // %S is /var/lib for the system manager and $XDG_STATE_HOME for a user's: sched's own defaults.
  else if (ownStateDir) exec.push('--state-dir', '%S/sched')
  const lines = [
    '# Written by sched service install; sched service uninstall removes it.',
    '[Unit]',
    'Description=sched: cron scheduler and process supervisor',
    'Documentation=man:sched-serve(1) man:sched.toml(5)',
    ...(f.scope === 'system' ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec.join(' ')}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    // SIGTERM to sched alone: it stops every run with its own stop ladder within shutdown_timeout.
    'KillMode=mixed',
    `TimeoutStopSec=${Math.ceil(f.shutdownTimeout / NS.s) + STOP_MARGIN_S}`,
    'Restart=on-failure',
    'RestartSec=2',
    // Jobs start in the home directory, as cron starts them.
    'WorkingDirectory=~',
    ...(ownStateDir ? ['StateDirectory=sched', 'StateDirectoryMode=0700'] : []),
    '',
    '[Install]',
    `WantedBy=${f.scope === 'system' ? 'multi-user.target' : 'default.target'}`,
  ]
  return `${lines.join('\n')}\n`
}

/** Where the unit file goes: under `root` (the real `/` unless testing or packaging). */
export function unitFilePath(scope: Scope, name: string, root: string, home: string, env: NodeJS.ProcessEnv): string {
  if (scope === 'system') return join(root, 'etc', 'systemd', 'system', `${name}.service`)
  const config = env.XDG_CONFIG_HOME || join(home, '.config')
  return join(root, config, 'systemd', 'user', `${name}.service`)
}

export function systemctl(scope: Scope, ...args: string[]): string[] {
  return ['systemctl', ...(scope === 'user' ? ['--user'] : []), ...args]
}

/** The commands that put an installed unit into service, and that take it out. */
export function installCommands(scope: Scope, name: string): string[][] {
  return [systemctl(scope, 'daemon-reload'), systemctl(scope, 'enable', '--now', `${name}.service`)]
}

export function uninstallCommands(scope: Scope, name: string): string[][] {
  return [systemctl(scope, 'disable', '--now', `${name}.service`), systemctl(scope, 'daemon-reload')]
}

/**
 * One argument of ExecStart: `%` and `$` are systemd's specifier and variable signs, and an
 * argument with spaces or quotes is double-quoted with C-style escapes.
 */
export function systemdQuote(arg: string): string {
  const escaped = arg.replaceAll('%', '%%').replaceAll('$', '$$$$')
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/["\\]/g, (c) => `\\${c}`)}"`
}
