import {type ConfigIssue, loadConfigFile} from '../config/load.js'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {formatIssue} from '../cli/issues.js'

export interface ValidateResult {
  readonly valid: boolean
  readonly config_path: string
  readonly units: number
  readonly errors: readonly ConfigIssue[]
  readonly warnings: readonly ConfigIssue[]
}

export default class Validate extends SchedCommand {
  static summary = 'Check a config file without starting anything.'
  static description = 'Reports every error at once, each with its file, line, column and key. Exits 1 when the file is invalid.'
  static examples = [
    {command: '<%= config.bin %> validate', description: 'Check the config sched would use.'},
    {command: '<%= config.bin %> validate -c /etc/sched/sched.toml', description: 'Check a specific file.'},
    {command: '<%= config.bin %> validate --json | jq .errors', description: 'Errors as data.'},
  ]

  /** --json: {valid, config_path, units, errors, warnings}, with exit 1 as well when invalid. */
  static enableJsonFlag = true

  async run(): Promise<ValidateResult> {
    const {flags} = await this.parse(Validate)
    const path = this.locateConfig(flags.config)
    const loaded = loadConfigFile(path)
    const result: ValidateResult = loaded.ok
      ? {valid: true, config_path: path, units: loaded.config.units.length, errors: [], warnings: loaded.warnings}
      : {valid: false, config_path: path, units: 0, errors: loaded.errors, warnings: loaded.warnings}

    if (!this.jsonEnabled()) {
      const c = this.out()
      for (const e of result.errors) this.log(formatIssue(path, e, c))
      for (const w of result.warnings) this.log(`${c.yellow('warning:')} ${formatIssue(path, w, c)}`)
      if (loaded.ok) {
        const tasks = loaded.config.units.filter((u) => u.kind === 'task').length
        this.log(`${c.green('ok')} ${path}: ${plural(tasks, 'task')}, ${plural(result.units - tasks, 'service')}`)
      } else {
        this.log(`${c.red('invalid')} ${path}: ${plural(result.errors.length, 'error')}`)
      }
    }
    if (!result.valid) process.exitCode = ExitCode.failure
    return result
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
