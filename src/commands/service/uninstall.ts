import {existsSync, rmSync} from 'node:fs'
import {SchedCommand} from '../../cli/base.js'
import {runCommands, serviceFlags, serviceScope} from '../../cli/service-scope.js'
import {SchedError} from '../../core/errors.js'
import {uninstallCommands} from '../../service/systemd-unit.js'

export default class ServiceUninstall extends SchedCommand {
  static summary = "Stop and disable sched's systemd service and remove its unit."
  static description = 'Where systemd runs: "systemctl disable --now", the unit file removed, "systemctl daemon-reload". Elsewhere (or with --root) the file is removed and the commands are printed. The state directory is kept.'
  static examples = [
    {command: 'sudo <%= config.bin %> service uninstall', description: 'Remove the system service.'},
    {command: '<%= config.bin %> service uninstall --user', description: 'Remove your user service.'},
  ]

  static flags = {...serviceFlags}

  static enableJsonFlag = true

  async run(): Promise<{unit_file: string; commands: string[]; ran: boolean}> {
    const {flags} = await this.parse(ServiceUninstall)
    const target = serviceScope(flags)
    if (!existsSync(target.unitFile)) throw new SchedError(`${target.unitFile} does not exist: nothing to uninstall`, {hint: flags.user ? 'installed system-wide? try without --user' : 'installed for your user? try --user'})
    const [disable, reload] = uninstallCommands(target.scope, target.name)
    if (target.live) runCommands([disable])
    rmSync(target.unitFile)
    this.logToStderr(`removed ${target.unitFile}`)
    if (target.live) runCommands([reload])
    else {
      this.logToStderr('systemd is not running here; where it is, run:')
      for (const c of [disable, reload]) this.log(c.join(' '))
    }
    return {unit_file: target.unitFile, commands: [disable, reload].map((c) => c.join(' ')), ran: target.live}
  }
}
