import {existsSync, readFileSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {Flags} from '@oclif/core'
import {type ConfigIssue} from '../config/load.js'
import {type TaskObject, taskObject} from '../config/task-json.js'
import {parseToml} from '../config/toml.js'
import {isTable} from '../config/values.js'
import {SchedError, errorMessage} from '../core/errors.js'
import {byPlace, checkImport} from '../import/check.js'
import type {ImportResult, InputError, InputPlace, Unmapped} from '../import/model.js'
import {renderUnits} from '../import/toml-writer.js'
import {writeFileAtomicSync} from '../state/atomic.js'
import {SchedCommand} from './base.js'
import {formatIssue} from './issues.js'

/** What an importer hands over: its result and the comment lines to head the output with. */
export interface Converted {
  readonly result: ImportResult
  readonly header: readonly string[]
}

export interface ImportContext {
  /** Names in the config merged into: invented names avoid them. */
  readonly taken: Set<string>
  /** Where the config will live: paths the importer writes may be relative to it. */
  readonly configDir: string | undefined
}

export interface ImportOutput {
  readonly units: readonly TaskObject[]
  readonly unmapped: readonly Unmapped[]
  readonly warnings: readonly ConfigIssue[]
  /** The file written, or null when the TOML went to stdout (then it is here as `toml`). */
  readonly written: string | null
  readonly toml?: string
}

/**
 * The part every `sched import …` shares: where the output goes (stdout, `--output FILE` never
 * over an existing file without `--force`, `--merge FILE` appended to a config without a name
 * clash), the check by sched's own loader before anything is written, the list of what was not
 * imported on stderr, and `--json`.
 */
export abstract class ImportCommand extends SchedCommand {
  static importFlags = {
    output: Flags.string({char: 'o', summary: 'Write the config to FILE instead of stdout.', exclusive: ['merge']}),
    force: Flags.boolean({summary: 'With --output, replace an existing file.'}),
    merge: Flags.string({summary: 'Add the units to this existing config; refused when a name is taken.', exclusive: ['output']}),
  }

  static enableJsonFlag = true

  protected abstract convert(context: ImportContext): Promise<Converted>

  async run(): Promise<ImportOutput> {
    const {flags} = await this.parse(this.constructor as typeof ImportCommand)
    const {output, force, merge} = flags as {output?: string; force?: boolean; merge?: string}
    const target = merge ?? output
    const path = target === undefined ? undefined : resolve(target)
    const existing = merge === undefined ? undefined : readExisting(path!)
    const {result, header} = await this.convert({taken: new Set(existing?.names), configDir: path && dirname(path)})
    if (output !== undefined && existsSync(path!) && !force) {
      throw new SchedError(`${path} exists; nothing was written`, {hint: 'pass --force to replace it, or --merge to add the units to it'})
    }
    if (existing) {
      const clashes = result.units.filter((u) => existing.names.has(u.name)).map((u) => u.name)
      if (clashes.length) {
        throw new SchedError(`${path} already has ${clashes.map((n) => `"${n}"`).join(', ')}; nothing was written`, {
          hint: 'rename them in one of the files, or import into a new file with --output',
          details: {clashes},
        })
      }
    }
    const imported = renderUnits(result.units, header)
    const text = existing ? `${existing.text.replace(/\n*$/, '\n\n')}${imported}` : imported
    // Checked where it will live, so relative paths resolve as they will for serve; what the
    // importer refused and what the loader refuses are reported together.
    const checked = checkImport(text, path ?? resolve('sched.toml'), result.units, {isRoot: true})
    const errors = [...result.errors, ...checked.errors].sort(byPlace)
    if (errors.length) throw this.inputErrors(errors)

    const c = this.err()
    for (const u of result.unmapped) this.logToStderr(`${c.yellow('not imported:')} ${place(u)}: ${u.what} ${c.dim(`(${u.why})`)}`)
    for (const w of checked.warnings) this.logToStderr(`${c.yellow('warning:')} ${formatIssue(path ?? 'sched.toml', w)}`)
    const units = checked.units.map((u) => taskObject(u))
    if (path) {
      // The mode of a config merged into is kept; a new one is readable by its owner only, as
      // crontab and supervisord environments often hold passwords.
      writeFileAtomicSync(path, text, existing ? statSync(path).mode & 0o777 : 0o600)
      this.logToStderr(`${merge ? 'added' : 'wrote'} ${units.length} unit${units.length === 1 ? '' : 's'} to ${path}; check it with: sched validate -c ${path}`)
      return {units, unmapped: result.unmapped, warnings: checked.warnings, written: path}
    }
    if (!this.jsonEnabled()) process.stdout.write(text)
    return {units, unmapped: result.unmapped, warnings: checked.warnings, written: null, toml: text}
  }

  /** Every input error on stderr as `file:line: message`, then one error to exit 1 with. */
  private inputErrors(errors: readonly InputError[]): SchedError {
    for (const e of errors) this.logToStderr(`${place(e)}: ${e.message}`)
    const sources = [...new Set(errors.map((e) => e.source))].join(', ')
    return new SchedError(`${sources}: ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was written`, {details: {errors}})
  }
}

/** `file:line`, or the file alone for what concerns it as a whole (line 0). */
function place(p: InputPlace): string {
  return p.line > 0 ? `${p.source}:${p.line}` : p.source
}

/** The text and unit names of the config `--merge` adds to; it must exist and parse. */
function readExisting(path: string): {text: string; names: Set<string>} {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new SchedError(`cannot read ${path}: ${errorMessage(error)}`, {hint: 'give --merge an existing sched.toml, or write a new one with --output'})
  }
  let doc: Record<string, unknown>
  try {
    doc = parseToml(text).value
  } catch (error) {
    throw new SchedError(`${path} is not valid TOML: ${errorMessage(error)}`, {hint: `run: sched validate -c ${path}`})
  }
  const names = new Set<string>()
  for (const section of ['tasks', 'services']) if (isTable(doc[section])) for (const name of Object.keys(doc[section])) names.add(name)
  return {text, names}
}

/** The text of an input file, `-` for standard input; a clear error when it cannot be read. */
export function readInput(file: string): {source: string; text: string} {
  const source = file === '-' ? 'stdin' : file
  try {
    return {source, text: readFileSync(file === '-' ? 0 : file, 'utf8')}
  } catch (error) {
    throw new SchedError(`cannot read ${source}: ${errorMessage(error)}`, {hint: 'check the path'})
  }
}
