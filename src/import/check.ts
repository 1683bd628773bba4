import {type ConfigIssue, type LoadOptions, formatPath, loadConfigText} from '../config/load.js'
import {section} from '../config/units.js'
import type {Unit} from '../core/types.js'
import type {ImportedUnit, InputError} from './model.js'

export interface CheckedImport {
  /** The imported units at their effective values, as `GET /api/tasks` would show them. */
  readonly units: readonly Unit[]
  /** What sched's loader refused, at the input line that produced it. */
  readonly errors: readonly InputError[]
  readonly warnings: readonly ConfigIssue[]
}

/**
 * Loads the config an import would write with the project's own loader, so what is written is
 * exactly what `sched validate` and `sched serve` accept. A refusal is reported where the user
 * can fix it: at the line of the crontab, Compose file or supervisord config it came from.
 */
export function checkImport(text: string, path: string, imported: readonly ImportedUnit[], options: LoadOptions = {}): CheckedImport {
  const result = loadConfigText(text, path, options)
  if (result.ok) {
    const names = new Set(imported.map((u) => u.name))
    return {units: result.config.units.filter((u) => names.has(u.name)), errors: [], warnings: result.warnings}
  }
  // Entries that share a bad line (a CRON_TZ above them all) are told about it once.
  const errors = new Map<string, InputError>()
  for (const issue of result.errors) {
    const e = toInputError(issue, path, imported)
    errors.set(`${e.source}\0${e.line}\0${e.message}`, e)
  }
  return {units: [], errors: [...errors.values()].sort(byPlace), warnings: result.warnings}
}

/** Input order: by file, then by line. */
export function byPlace(a: InputError, b: InputError): number {
  return a.source === b.source ? a.line - b.line : a.source < b.source ? -1 : 1
}

function toInputError(issue: ConfigIssue, path: string, imported: readonly ImportedUnit[]): InputError {
  for (const unit of imported) {
    const prefix = formatPath([section(unit.kind), unit.name])
    if (issue.key !== prefix && !issue.key.startsWith(`${prefix}.`) && !issue.key.startsWith(`${prefix}[`)) continue
    const key = issue.key.slice(prefix.length + 1).split(/[.[]/)[0]
    const message = `${key ? `${key}: ` : ''}${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`
    return {source: unit.source, line: unit.keyLines?.[key] ?? unit.line, message}
  }
  // Not from an imported unit: the file merged into has the problem.
  return {source: path, line: issue.line, message: `${issue.key ? `${issue.key}: ` : ''}${issue.message}`}
}
