import type {ImportedUnit, TomlValue} from './model.js'

/**
 * The one TOML writer of every importer: units as `[tasks.NAME]`/`[services.NAME]` tables a
 * person can read and edit — names with dots quoted, scripts of several lines as multi-line
 * strings, shell text in literal strings when that spares the backslashes, parameters as
 * `[[tasks.NAME.parameters]]` tables.
 */
export function renderUnits(units: readonly ImportedUnit[], header: readonly string[] = []): string {
  const blocks: string[] = []
  if (header.length) blocks.push(header.map(comment).join('\n'))
  for (const unit of units) blocks.push(renderUnit(unit))
  return `${blocks.join('\n\n')}\n`
}

function renderUnit(unit: ImportedUnit): string {
  const table = `${unit.kind === 'task' ? 'tasks' : 'services'}.${tomlKey(unit.name)}`
  const lines = unit.comments.map(comment)
  lines.push(`[${table}]`)
  const subTables: string[] = []
  for (const [key, value] of Object.entries(unit.fields)) {
    const inline = `${tomlKey(key)} = ${tomlValue(value)}`
    // An inline table must stay on one line: a long env map reads better as its own table.
    if (isTable(value) && inline.length > 100) subTables.push('', `[${table}.${tomlKey(key)}]`, ...keyValues(value))
    else lines.push(inline)
  }
  for (const parameter of unit.parameters ?? []) subTables.push('', `[[${table}.parameters]]`, ...keyValues(parameter))
  return [...lines, ...subTables].join('\n')
}

function keyValues(table: {readonly [key: string]: TomlValue}): string[] {
  return Object.entries(table).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`)
}

function comment(text: string): string {
  return text === '' ? '#' : `# ${text.replaceAll('\n', ' ')}`
}

function isTable(value: TomlValue): value is {readonly [key: string]: string} {
  return typeof value === 'object' && !Array.isArray(value)
}

export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : basicString(key)
}

export function tomlValue(value: TomlValue): string {
  if (typeof value === 'string') return tomlString(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return `[${value.map((v) => tomlValue(v as string | number)).join(', ')}]`
  const entries = Object.entries(value as {[key: string]: string})
  return entries.length ? `{ ${entries.map(([k, v]) => `${tomlKey(k)} = ${tomlString(v)}`).join(', ')} }` : '{}'
}

// Control characters a TOML string cannot hold unescaped (tab and, in multi-line strings, newline can).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/

/**
 * A string as TOML. Text over several lines becomes a multi-line literal (`'''`), kept exactly
 * as written; one line with quotes or backslashes (shell text) a literal `'…'`; the rest, and
 * whatever a literal cannot hold, a basic string with escapes.
 */
export function tomlString(text: string): string {
  if (!CONTROL.test(text) && !text.includes('\r')) {
    if (text.includes('\n') && !text.includes("'''") && !text.endsWith("'")) return `'''\n${text}'''`
    if (!text.includes('\n') && !text.includes("'") && /["\\]/.test(text)) return `'${text}'`
  }
  return basicString(text)
}

function basicString(text: string): string {
  return `"${text.replace(/[\\"\u0000-\u001F\u007F]/g, escapeChar)}"`
}

const ESCAPES: Record<string, string> = {'\\': '\\\\', '"': '\\"', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r'}

function escapeChar(c: string): string {
  return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
}
