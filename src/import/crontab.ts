import type {ImportResult, ImportedUnit, InputError, TomlValue, Unmapped} from './model.js'
import {nameFromCommand, uniqueName} from './names.js'

/**
 * A crontab as sched tasks (SPEC §10), with Vixie cron's and cronie's reading of it: variable
 * lines apply to the entries below them, `CRON_TZ` (and `TZ`) set the zone of the entries below,
 * `@reboot` is `run_on_start`, the first unescaped `%` starts the command's standard input and
 * later ones are newlines in it, and the comment right above an entry is its description.
 */

export interface CrontabOptions {
  /** Where the text came from, for comments and messages (a path, "crontab -l", "stdin"). */
  readonly source: string
  /** The system format of /etc/crontab and /etc/cron.d: a user column after the schedule. */
  readonly userColumn: boolean
  /** Names already used (earlier files of the same import): new names avoid them, and are added. */
  readonly taken?: Set<string>
}

const SHORTCUTS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@reboot'])
const MAIL_VARIABLES = new Set(['MAILTO', 'MAILFROM', 'CONTENT_TYPE', 'CONTENT_TRANSFER_ENCODING'])
const ENV_LINE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/
const STDIN_END = 'SCHED_STDIN'
const MAX_NOTE_LINES = 3
/** One time field: numbers, `*`, `?`, lists, ranges, steps, L/W/#, month and day names. */
const FIELD = /^(?:[0-9*?LW#/,-]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)+$/i

export function convertCrontab(text: string, options: CrontabOptions): ImportResult {
  const {source, userColumn} = options
  const taken = options.taken ?? new Set<string>()
  const units: ImportedUnit[] = []
  const unmapped: Unmapped[] = []
  const errors: InputError[] = []
  const env: Record<string, string> = {}
  let zone: {value: string; line: number} | undefined
  let shell: {value: string; line: number} | undefined
  let comments: string[] = []

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1
    const trimmed = raw.trim()
    if (trimmed === '') {
      comments = []
      return
    }
    if (trimmed.startsWith('#')) {
      const note = trimmed.replace(/^#+\s?/, '').trim()
      // The column header of crontab(5) templates and commented-out entries describe nothing.
      if (note && !/^m\s+h\s+dom\s+mon\s+dow/.test(note) && !parseEntry(note, userColumn)) comments.push(note)
      return
    }
    const variable = ENV_LINE.exec(raw)
    if (variable && !parseEntry(trimmed, userColumn)) {
      const [, key, rawValue] = variable
      const value = unquote(rawValue.trim())
      if (key === 'CRON_TZ') zone = {value, line}
      else if (MAIL_VARIABLES.has(key)) unmapped.push({source, line, what: trimmed, why: 'sched does not mail output: it keeps each run\'s output in its log (sched logs NAME)'})
      else if (key === 'RANDOM_DELAY') unmapped.push({source, line, what: trimmed, why: 'sched has no random delay; jitter = "…" lets cron tasks that share a tick take turns'})
      else if (key === 'SHELL') shell = {value, line}
      else {
        // TZ is both the job's environment and, for cron users, the zone of the schedule.
        if (key === 'TZ') zone = {value, line}
        env[key] = value
      }
      comments = []
      return
    }
    const entry = parseEntry(trimmed, userColumn)
    if (!entry) {
      errors.push({source, line, message: userColumn ? 'expected a schedule (5 fields or @daily-style), a user and a command' : 'expected a schedule (5 fields or @daily-style) and a command'})
      comments = []
      return
    }
    const {command, stdin} = splitPercent(entry.command)
    if (command.trim() === '') {
      errors.push({source, line, message: 'the entry has no command before its %'})
      comments = []
      return
    }
    const fields: Record<string, TomlValue> = {}
    // A long block above the first entry is the file's header (crontab(5)'s example), not a note.
    if (comments.length && comments.length <= MAX_NOTE_LINES) fields.description = comments.join(' ')
    fields.run = stdin === undefined ? command : withStdin(command, stdin)
    if (entry.schedule === '@reboot') fields.run_on_start = true
    else fields.cron = entry.schedule
    const keyLines: Record<string, number> = {}
    if (zone !== undefined && entry.schedule !== '@reboot') {
      fields.timezone = zone.value
      keyLines.timezone = zone.line
    }
    if (entry.user !== undefined) fields.user = entry.user
    if (shell !== undefined) {
      fields.shell = shell.value
      keyLines.shell = shell.line
    }
    if (Object.keys(env).length) fields.env = {...env}
    const name = uniqueName(nameFromCommand(command) || 'cron-job', taken)
    units.push({kind: 'task', name, source, line, comments: [`${source}:${line}: ${abbreviate(trimmed)}`], fields, keyLines})
    comments = []
  })
  return {units, unmapped, errors}
}

interface Entry {
  readonly schedule: string
  readonly user?: string
  readonly command: string
}

/** A crontab entry, or undefined when the line is not one. */
function parseEntry(line: string, userColumn: boolean): Entry | undefined {
  const words = line.split(/\s+/)
  const shortcut = words[0].startsWith('@')
  if (shortcut && !SHORTCUTS.has(words[0].toLowerCase())) {
    // An unknown @word is still meant as a schedule: sched's cron parser will say what is wrong.
    if (!/^@[a-z]+$/i.test(words[0])) return undefined
  }
  const scheduleWords = shortcut ? 1 : 5
  if (!shortcut && !words.slice(0, 5).every((w) => FIELD.test(w))) return undefined
  const rest = userColumn ? 1 : 0
  if (words.length < scheduleWords + rest + 1) return undefined
  // Keep the command exactly as written, inner spacing included.
  const match = new RegExp(`^(?:\\S+\\s+){${scheduleWords + rest}}`).exec(line)
  if (!match) return undefined
  return {
    schedule: shortcut ? words[0].toLowerCase() : words.slice(0, 5).join(' '),
    user: userColumn ? words[scheduleWords] : undefined,
    command: line.slice(match[0].length),
  }
}

/** crontab(5): an unescaped `%` ends the command; what follows is its input, `%` a newline. */
export function splitPercent(text: string): {command: string; stdin?: string} {
  const parts: string[] = ['']
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && text[i + 1] === '%') {
      parts[parts.length - 1] += '%'
      i++
    } else if (c === '%') parts.push('')
    else parts[parts.length - 1] += c
  }
  return parts.length === 1 ? {command: parts[0]} : {command: parts[0], stdin: parts.slice(1).join('\n')}
}

/** The command reading `stdin` from a here-document that nothing in it can end early. */
function withStdin(command: string, stdin: string): string {
  let end = STDIN_END
  for (let n = 2; stdin.split('\n').includes(end); n++) end = `${STDIN_END}_${n}`
  return `${command.trimEnd()} <<'${end}'\n${stdin}\n${end}\n`
}

function unquote(value: string): string {
  const q = value[0]
  return (q === '"' || q === "'") && value.length >= 2 && value.endsWith(q) ? value.slice(1, -1) : value
}

function abbreviate(text: string): string {
  return text.length > 160 ? `${text.slice(0, 159)}…` : text
}
