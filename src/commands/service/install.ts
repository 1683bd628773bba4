import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {Flags} from '@oclif/core'
import {SchedCommand} from '../../cli/base.js'
import {runCommands, serviceFlags, serviceScope} from '../../cli/service-scope.js'
import {SchedError} from '../../core/errors.js'
import {installCommands, systemdUnit} from '../../service/systemd-unit.js'
import {writeFileAtomicSync} from '../../state/atomic.js'

export interface InstallResult {
  readonly unit_file: string
  readonly scope: 'system' | 'user'
  readonly changed: boolean
  /** The systemctl commands that start the service. */
  readonly commands: readonly string[]
  /** Whether they were run here (systemd running, no --root); otherwise they are printed. */
  readonly ran: boolean
}

export default class ServiceInstall extends SchedCommand {
  static summary = 'Run sched serve under systemd: write its unit and enable it.'
  static description = `Writes a systemd unit that runs "sched serve -c CONFIG --log-format json" with the absolute paths of node and sched: ExecReload sends SIGHUP (a reload), KillMode=mixed lets sched stop its runs with their own stop ladders, TimeoutStopSec is the config's shutdown_timeout plus 10s, Restart=on-failure, jobs start in the home directory as under cron, and StateDirectory=sched holds the state (/var/lib/sched, or ~/.local/state/sched for --user) unless the config or --state-dir names one.

Then, where systemd runs, it runs "systemctl daemon-reload" and "systemctl enable --now"; elsewhere (a container, a chroot, or with --root) it prints them on stdout. The config must exist and be valid. An existing unit with other content is kept unless --force.`
  static examples = [
    {command: 'sudo <%= config.bin %> service install -c /etc/sched/sched.toml', description: 'A system service, started now and at every boot.'},
    {command: '<%= config.bin %> service install --user', description: 'A user service for your own config; add "loginctl enable-linger" to run it without a login.'},
    {command: '<%= config.bin %> service install --root /tmp/stage -c /etc/sched/sched.toml', description: 'Write the unit under a staging root and print the systemctl commands.'},
  ]

  static flags = {
    ...serviceFlags,
    force: Flags.boolean({summary: 'Replace an existing unit file with other content.'}),
  }

  static enableJsonFlag = true

  async run(): Promise<InstallResult> {
    const {flags} = await this.parse(ServiceInstall)
    const target = serviceScope(flags)
    const config = this.loadConfig(flags.config)
    const text = systemdUnit({
      scope: target.scope,
      node: process.execPath,
      sched: join(this.config.root, 'bin', 'run.js'),
      config: config.path,
      stateDir: flags['state-dir'] === undefined ? undefined : resolve(flags['state-dir']),
      configHasStateDir: config.daemon.state_dir !== undefined,
      shutdownTimeout: config.daemon.shutdown_timeout,
    })
    const before = existsSync(target.unitFile) ? readFileSync(target.unitFile, 'utf8') : undefined
    if (before !== undefined && before !== text && !flags.force) {
      throw new SchedError(`${target.unitFile} exists with other content; nothing was written`, {hint: 'pass --force to replace it, or sched service uninstall first'})
    }
    const changed = before !== text
    if (changed) {
      mkdirSync(dirname(target.unitFile), {recursive: true})
      writeFileAtomicSync(target.unitFile, text, 0o644)
    }
    this.logToStderr(`${changed ? 'wrote' : 'unchanged:'} ${target.unitFile}`)
    const commands = installCommands(target.scope, target.name)
    if (target.live) {
      runCommands(commands)
      this.logToStderr(`${target.name}.service is enabled and started; see: sched service status${target.scope === 'user' ? ' --user' : ''}`)
    } else {
      this.logToStderr(flags.root === undefined ? 'systemd is not running here; start the service where it is with:' : 'to start the service on the system it is meant for:')
      for (const c of commands) this.log(c.join(' '))
      if (target.scope === 'user') this.logToStderr('and, to keep it running without a login: loginctl enable-linger')
    }
    return {unit_file: target.unitFile, scope: target.scope, changed, commands: commands.map((c) => c.join(' ')), ran: target.live}
  }
}
