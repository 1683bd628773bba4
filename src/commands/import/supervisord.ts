import {resolve} from 'node:path'
import {Args} from '@oclif/core'
import {type Converted, ImportCommand, readInput} from '../../cli/import-command.js'
import {convertSupervisord} from '../../import/supervisord.js'

export default class ImportSupervisord extends ImportCommand {
  static summary = 'Convert a supervisord config into sched services.'
  static description = `Each [program:x] becomes a service: command (run with exec, so the program is the run's process, as it was supervisord's child), directory, environment (merged over [supervisord] environment), user, numprocs as instances, autostart, autorestart (true: always, unexpected: on_failure, false: never), exitcodes, startsecs as healthy_after, startretries as start_retries, stopsignal, stopwaitsecs as graceful_stop, priority, umask. [group:g] programs get group = "g". Expansions such as %(program_name)s and %(here)s are written in; %(process_num)02d, %(host_node_name)s and %(ENV_X)s in the command become shell expansions of SCHED_INSTANCE, the host name and the variable.

supervisord's defaults are written where they differ from sched's (startsecs=1, stopwaitsecs=10), so programs behave as they did. What sched does not take (log files, event listeners, includes) is listed on stderr with its line.`
  static examples = [
    {command: '<%= config.bin %> import supervisord /etc/supervisor/supervisord.conf -o sched.toml', description: 'A new config.'},
    {command: '<%= config.bin %> import supervisord /etc/supervisor/conf.d/app.conf --merge sched.toml', description: 'Add the programs of an included file.'},
  ]

  static args = {
    file: Args.string({required: true, description: 'The supervisord config file, or - for standard input.'}),
  }

  static flags = {...ImportCommand.importFlags}

  protected async convert(): Promise<Converted> {
    const {args} = await this.parse(ImportSupervisord)
    const {source, text} = readInput(args.file)
    const path = args.file === '-' ? resolve('supervisord.conf') : resolve(args.file)
    return {result: convertSupervisord(text, {source, path}), header: [`Imported from ${source} by sched import supervisord.`]}
  }
}
