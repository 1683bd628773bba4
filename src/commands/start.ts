import {Args} from '@oclif/core'
import {SchedCommand} from '../cli/base.js'
import {type ControlResult, control, describeControl} from '../cli/control.js'

export default class Start extends SchedCommand {
  static summary = 'Start a stopped, FATAL or autostart = false service.'
  static description = 'Starts every instance that is not running and clears FATAL and the restart counters. Refused for services with api_trigger = false. Needs a running daemon.'
  static examples = [{command: '<%= config.bin %> start web', description: 'Bring a stopped service back.'}]

  static args = {
    service: Args.string({required: true, description: 'The service to start.'}),
  }

  /** --json: what was done and the service's state. */
  static enableJsonFlag = true

  async run(): Promise<ControlResult> {
    const {args, flags} = await this.parse(Start)
    const {config, layout} = this.readContext(flags.config, flags['state-dir'])
    const result = await control(layout, config, {type: 'start', unit: args.service})
    this.log(describeControl(result))
    return result
  }
}
