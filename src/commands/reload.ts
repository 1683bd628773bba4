import {Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {askDaemon, requireDaemon} from '../cli/daemon-request.js'
import {formatIssue} from '../cli/issues.js'
import type {ConfigIssue} from '../config/load.js'
import {SchedError} from '../core/errors.js'

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

  static flags = {
    json: Flags.boolean({summary: 'Print {added, removed, changed} as JSON.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Reload)
    const {layout} = this.readContext(flags.config, flags['state-dir'])
    const daemon = requireDaemon(layout)
    const response = await askDaemon(layout, daemon, {type: 'reload'})
    if (!response.ok) {
      const errors = ((response.data as {errors?: ConfigIssue[]} | undefined)?.errors ?? []) as ConfigIssue[]
      const c = this.err()
      for (const e of errors) this.logToStderr(formatIssue(daemon.config_path, e, c))
      throw new SchedError(response.message ?? 'reload refused', {exit: ExitCode.failure})
    }
    const result = response.data as Reloaded
    if (flags.json) {
      this.logJson({added: result.added, removed: result.removed, changed: result.changed})
      return
    }
    const lines = (['added', 'changed', 'removed'] as const).filter((k) => result[k].length).map((k) => `${k}: ${result[k].join(', ')}`)
    this.log(lines.length ? lines.join('\n') : 'no changes')
  }
}
