import {existsSync, readFileSync} from 'node:fs'
import {SchedCommand} from '../../cli/base.js'
import {ask, serviceFlags, serviceScope} from '../../cli/service-scope.js'
import {ExitCode} from '../../core/errors.js'
import {systemctl} from '../../service/systemd-unit.js'

export interface UnitStatus {
  readonly unit_file: string
  readonly installed: boolean
  readonly exec_start: string | null
  /** systemd's answers, or null where systemd is not running (or with --root). */
  readonly active: string | null
  readonly enabled: string | null
}

export default class ServiceStatus extends SchedCommand {
  static summary = "Is sched's systemd service installed, enabled and active?"
  static description = 'Shows the unit file and its ExecStart and, where systemd runs, what "systemctl is-active" and "is-enabled" say. Exits 0 when the unit is installed, 1 when it is not. For the daemon itself, see sched status.'
  static examples = [
    {command: '<%= config.bin %> service status', description: 'The system service.'},
    {command: '<%= config.bin %> service status --user --json', description: 'Your user service, as data.'},
  ]

  static flags = {...serviceFlags}

  static enableJsonFlag = true

  async run(): Promise<UnitStatus> {
    const {flags} = await this.parse(ServiceStatus)
    const target = serviceScope(flags)
    const installed = existsSync(target.unitFile)
    const execStart = installed ? (/^ExecStart=(.*)$/m.exec(readFileSync(target.unitFile, 'utf8'))?.[1] ?? null) : null
    const unit = `${target.name}.service`
    const status: UnitStatus = {
      unit_file: target.unitFile,
      installed,
      exec_start: execStart,
      active: target.live ? ask(systemctl(target.scope, 'is-active', unit)) : null,
      enabled: target.live ? ask(systemctl(target.scope, 'is-enabled', unit)) : null,
    }
    this.log(`${unit}: ${installed ? `installed at ${target.unitFile}` : `not installed (no ${target.unitFile})`}`)
    if (execStart) this.log(`  ExecStart=${execStart}`)
    if (target.live) this.log(`  ${status.active}, ${status.enabled}`)
    else if (installed) this.log('  systemd is not running here: cannot say whether it is active')
    if (!installed) process.exitCode = ExitCode.failure
    return status
  }
}
