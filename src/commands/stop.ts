import {Args} from '@oclif/core'
import {SchedCommand} from '../cli/base.js'
import {type ControlResult, control, describeControl} from '../cli/control.js'

export default class Stop extends SchedCommand {
  static summary = 'Stop a run, every run of a task, or a service.'
  static description =
    'A run id stops that run with its stop ladder (stop_signal, graceful_stop, SIGKILL); a queued run ends without starting; a service instance\'s run is stopped and the instance starts again in its slot. A task name stops its active and queued runs. A service stops every instance and stays stopped until sched start or a daemon restart. Answers once what was stopped has ended. Needs a running daemon.'
  static examples = [
    {command: '<%= config.bin %> stop backup', description: 'Stop every run of a task.'},
    {command: '<%= config.bin %> stop 01JD5V7Q8M0000000000000000', description: 'Stop one run.'},
    {command: '<%= config.bin %> stop web', description: 'Stop a service and keep it stopped.'},
  ]

  static args = {
    target: Args.string({required: true, description: 'A task, a service, or a run id.'}),
  }

  /** --json: what was done. */
  static enableJsonFlag = true

  async run(): Promise<ControlResult> {
    const {args, flags} = await this.parse(Stop)
    const {config, layout} = this.readContext(flags.config, flags['state-dir'])
    const result = await control(layout, config, {type: 'stop', target: args.target})
    this.log(describeControl(result))
    return result
  }
}
