import {Flags} from '@oclif/core'
import {SchedCommand} from '../cli/base.js'
import {refusalError} from '../cli/control.js'
import {DaemonClient} from '../cli/daemon-client.js'
import {formatIssue} from '../cli/issues.js'

export default class Reload extends SchedCommand {
  static summary = 'Ask the running daemon to reload its config.'
  static description =
    'The daemon validates the whole file first: on any error nothing changes and the errors are printed (exit 1). A change to [daemon] or [scheduler] needs a restart. Otherwise prints what was added, changed and removed. The same as SIGHUP or POST /api/daemon/reload.'
  static examples = [
    {command: '<%= config.bin %> reload', description: 'Apply an edited sched.toml.'},
    {command: '<%= config.bin %> reload --json', description: '{added, removed, changed} as data.'},
  ]

  static flags = {
    json: Flags.boolean({summary: 'Print {added, removed, changed} as JSON.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Reload)
    const {layout} = this.readContext(flags.config, flags['state-dir'])
    const client = DaemonClient.connect(layout)
    const result = await client.reload()
    if (!result.ok) {
      const c = this.err()
      for (const e of result.errors ?? []) this.logToStderr(formatIssue(client.info.config_path, e, c))
      throw refusalError(result)
    }
    if (flags.json) {
      this.logJson({added: result.added, removed: result.removed, changed: result.changed})
      return
    }
    const lines = (['added', 'changed', 'removed'] as const).filter((k) => result[k].length).map((k) => `${k}: ${result[k].join(', ')}`)
    this.log(lines.length ? lines.join('\n') : 'no changes')
  }
}
