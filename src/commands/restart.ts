import {Args} from '@oclif/core'
import {SchedCommand} from '../cli/base.js'
import {type ControlResult, control, describeControl} from '../cli/control.js'

export default class Restart extends SchedCommand {
  static summary = 'Restart every instance of a service.'
  static description = 'Each instance is stopped with its stop ladder and started again at once; FATAL and the restart counters are cleared. Refused for services with api_trigger = false. Needs a running daemon.'
  static examples = [{command: '<%= config.bin %> restart web', description: 'Cycle all instances of a service.'}]

  static args = {
    service: Args.string({required: true, description: 'The service to restart.'}),
  }

  /** --json: what was done and the service's state. */
  static enableJsonFlag = true

  async run(): Promise<ControlResult> {
    const {args, flags} = await this.parse(Restart)
    const {config, layout} = this.readContext(flags.config, flags['state-dir'])
    const result = await control(layout, config, {type: 'restart', unit: args.service})
    this.log(describeControl(result))
    return result
  }
}
