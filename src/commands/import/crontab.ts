import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {userInfo} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {type Converted, ImportCommand, type ImportContext, readInput} from '../../cli/import-command.js'
import {SchedError} from '../../core/errors.js'
import {convertCrontab} from '../../import/crontab.js'
import type {ImportResult, Unmapped} from '../../import/model.js'

const SYSTEM_CRONTABS = ['/etc/crontab', '/etc/cron.d']
// cron reads the files of /etc/cron.d whose names are run-parts(8) names only.
const CRON_D_NAME = /^[A-Za-z0-9_-]+$/

export default class ImportCrontab extends ImportCommand {
  static summary = 'Convert a crontab into sched tasks.'
  static description = `Reads a crontab (default: yours, from crontab -l; - reads standard input) and prints sched.toml tasks: 5-field and @daily-style schedules as cron, @reboot as run_on_start, CRON_TZ and TZ as timezone, SHELL as shell, other variable lines as env of the entries below them, the comment right above an entry as its description. As in crontab(5), the first unescaped % starts the command's standard input and later ones are newlines in it. Names come from the commands (backup-db, certbot-renew) and are unique.

--system reads the system format, with a user column (mapped to user): /etc/crontab and the files of /etc/cron.d by default, or the files and directories given.

What sched does not take (MAILTO, RANDOM_DELAY) is listed on stderr with its line; an entry sched cannot run is an error with its line, and nothing is written. Unlike cron, sched catches up the latest tick missed while it was down and queues a run that would overlap the previous one: see catch_up and on_overlap in sched.toml(5).`
  static examples = [
    {command: '<%= config.bin %> import crontab > sched.toml', description: 'Your crontab as a new config.'},
    {command: '<%= config.bin %> import crontab backup.cron --merge sched.toml', description: 'Add the entries of a file to an existing config.'},
    {command: 'sudo <%= config.bin %> import crontab --system -o /etc/sched/sched.toml', description: '/etc/crontab and /etc/cron.d, with their users.'},
    {command: '<%= config.bin %> import crontab - --json < jobs.cron', description: 'The tasks and what was not imported, as data.'},
  ]

  static strict = false

  static args = {
    file: Args.string({description: 'A crontab file, or - for standard input (default: crontab -l). With --system, files and directories.'}),
  }

  static flags = {
    ...ImportCommand.importFlags,
    system: Flags.boolean({summary: 'System crontabs, with a user column: /etc/crontab and /etc/cron.d unless files are given.'}),
  }

  protected async convert({taken}: ImportContext): Promise<Converted> {
    const {argv, flags} = await this.parse(ImportCrontab)
    const files = argv as string[]
    if (!flags.system) {
      if (files.length > 1) throw new SchedError('give one crontab file (or --system for several)', {exit: 2})
      const {source, text} = files.length ? readInput(files[0]) : userCrontab()
      return {result: convertCrontab(text, {source, userColumn: false, taken}), header: [`Imported from ${source} by sched import crontab.`]}
    }
    const inputs = files.length ? files : SYSTEM_CRONTABS.filter((f) => existsSync(f))
    if (inputs.length === 0) throw new SchedError(`none of ${SYSTEM_CRONTABS.join(', ')} exists`, {hint: 'name the crontab files to import'})
    const results: ImportResult[] = []
    for (const input of inputs) {
      if (!isDirectory(input)) {
        const {source, text} = readInput(input)
        results.push(convertCrontab(text, {source, userColumn: true, taken}))
        continue
      }
      const skipped: Unmapped[] = []
      for (const name of readdirSync(input).sort()) {
        const file = join(input, name)
        if (!CRON_D_NAME.test(name)) skipped.push({source: file, line: 0, what: name, why: 'cron ignores files in cron.d whose names hold other than letters, digits, "_" and "-"'})
        else if (!isDirectory(file)) results.push(convertCrontab(readInput(file).text, {source: file, userColumn: true, taken}))
      }
      results.push({units: [], unmapped: skipped, errors: []})
    }
    const result = {
      units: results.flatMap((r) => r.units),
      unmapped: results.flatMap((r) => r.unmapped),
      errors: results.flatMap((r) => r.errors),
    }
    return {result, header: [`Imported from ${inputs.join(', ')} by sched import crontab --system.`, 'Tasks with a user need sched serve to run as root.']}
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** The invoking user's crontab, as `crontab -l` prints it. */
function userCrontab(): {source: string; text: string} {
  const source = 'crontab -l'
  try {
    return {source, text: execFileSync('crontab', ['-l'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})}
  } catch (error) {
    const e = error as NodeJS.ErrnoException & {stderr?: string}
    if (e.code === 'ENOENT') throw new SchedError('crontab(1) is not installed here', {hint: 'name the crontab file: sched import crontab FILE'})
    const said = e.stderr?.trim()
    throw new SchedError(said ? `crontab -l: ${said}` : `no crontab for ${userInfo().username}`, {hint: 'name a crontab file, or use --system for /etc/crontab and /etc/cron.d'})
  }
}
