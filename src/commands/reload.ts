import {SchedCommand} from '../cli/base.js'
import {refusalError} from '../cli/control.js'
import {DaemonClient} from '../cli/daemon-client.js'
import {ConfigInvalidError} from '../config/valid.js'

interface Reloaded {
  added: string[]
  removed: string[]
  changed: string[]
}

export default class Reload extends SchedCommand {
  static summary = 'Ask the running daemon to reload its config.'
  static description =
    'The daemon validates the whole file first: on any error nothing changes and the errors are printed (exit 1). A change to [daemon] or [scheduler] needs a restart. Otherwise prints what was added, changed and removed. The same as SIGHUP or POST /api/daemon/reload.'
  static examples = [
    {command: '<%= config.bin %> reload', description: 'Apply an edited sched.toml.'},
    {command: '<%= config.bin %> reload --json', description: '{added, removed, changed} as data.'},
  ]

  /** --json: {added, removed, changed}; a refusal is {error: {message, errors}}. */
  static enableJsonFlag = true

  async run(): Promise<Reloaded> {
    const {flags} = await this.parse(Reload)
    const {layout} = this.readContext(flags.config, flags['state-dir'])
    const client = DaemonClient.connect(layout)
    const answer = await client.reload()
    if (!answer.ok) {
      throw answer.errors?.length ? new ConfigInvalidError(client.info.config_path, answer.errors, answer.message) : refusalError(answer)
    }
    const result: Reloaded = {added: answer.added, removed: answer.removed, changed: answer.changed}
    const lines = (['added', 'changed', 'removed'] as const).filter((k) => result[k].length).map((k) => `${k}: ${result[k].join(', ')}`)
    this.log(lines.length ? lines.join('\n') : 'no changes')
    return result
  }
}
