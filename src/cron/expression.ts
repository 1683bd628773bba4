import {NS, parseDuration} from '../core/duration.js'

/**
 * A parsed cron expression. Sets are lookup tables indexed by value so matching is a few array
 * reads; `next*` tables give the first allowed value at or after an index (-1 = none left).
 */
export interface CronSpec {
  readonly type: 'cron'
  readonly source: string
  readonly second: Field
  readonly minute: Field
  readonly hour: Field
  readonly month: Field
  readonly dom: readonly boolean[]
  readonly domLast: boolean
  readonly dow: readonly boolean[]
  /** dow nth-of-month: `5#3` (third Friday) → nth[5] includes 3. */
  readonly dowNth: readonly (readonly number[])[]
  /** dow last-of-month: `5L` (last Friday). */
  readonly dowLast: readonly boolean[]
  /** POSIX/Vixie: when both day fields are restricted, a day matches if either does. */
  readonly domRestricted: boolean
  readonly dowRestricted: boolean
  /** Hour field is `*`: such schedules run on real time through a DST fall-back (see schedule.ts). */
  readonly hourWildcard: boolean
}

export interface EverySpec {
  readonly type: 'every'
  readonly source: string
  readonly intervalMs: number
}

export type ScheduleSpec = CronSpec | EverySpec

export interface Field {
  readonly allowed: readonly boolean[]
  readonly next: readonly number[]
}

export class CronSyntaxError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message)
  }
}

/** The `@daily`-style shortcuts and the cron expression each stands for. */
export const SHORTCUTS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

interface FieldDef {
  name: string
  min: number
  max: number
  names?: string[]
  /** value of names[0] */
  nameBase?: number
}

const SECOND: FieldDef = {name: 'second', min: 0, max: 59}
const MINUTE: FieldDef = {name: 'minute', min: 0, max: 59}
const HOUR: FieldDef = {name: 'hour', min: 0, max: 23}
const DOM: FieldDef = {name: 'day-of-month', min: 1, max: 31}
const MONTH: FieldDef = {name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1}
const DOW: FieldDef = {name: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0}

export const MIN_EVERY_MS = 1000

/** Parses 5- or 6-field cron, a shortcut, or `@every <duration>`; throws CronSyntaxError. */
export function parseSchedule(source: string): ScheduleSpec {
  let spec = parsed.get(source)
  if (!spec) {
    spec = parseUncached(source)
    if (parsed.size > 10_000) parsed.clear()
    parsed.set(source, spec)
  }
  return spec
}

/** Specs are immutable, and a thousand-task file repeats a few dozen expressions. */
const parsed = new Map<string, ScheduleSpec>()

function parseUncached(source: string): ScheduleSpec {
  const text = source.trim()
  if (text.startsWith('@')) return parseShortcut(text, source)
  const parts = text.split(/\s+/)
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronSyntaxError(
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got ${parts.length}`,
      'e.g. "0 3 * * *" for 03:00 every day, or "@daily"',
    )
  }
  const [sec, min, hour, dom, month, dow] = parts.length === 6 ? parts : ['0', ...parts]
  return buildCron(source, sec, min, hour, dom, month, dow)
}

function parseShortcut(text: string, source: string): ScheduleSpec {
  const lower = text.toLowerCase()
  if (lower === '@reboot') {
    throw new CronSyntaxError('@reboot is not a schedule', 'set run_on_start = true to run the task when the daemon starts')
  }
  if (lower.startsWith('@every')) {
    const arg = text.slice('@every'.length).trim()
    const ns = parseDuration(arg)
    if (ns === undefined) throw new CronSyntaxError(`@every needs a duration, got "${arg}"`, 'e.g. "@every 5m"')
    if (ns < MIN_EVERY_MS * NS.ms) throw new CronSyntaxError(`@every interval ${arg} is below the 1s minimum`)
    return {type: 'every', source, intervalMs: ns / NS.ms}
  }
  const expansion = SHORTCUTS[lower]
  if (!expansion) {
    throw new CronSyntaxError(
      `unknown shortcut ${text}`,
      `use one of ${Object.keys(SHORTCUTS).join(', ')} or "@every <duration>"`,
    )
  }
  const [min, hour, dom, month, dow] = expansion.split(' ')
  return buildCron(source, '0', min, hour, dom, month, dow)
}

function buildCron(source: string, sec: string, min: string, hour: string, dom: string, month: string, dow: string): CronSpec {
  const domField = parseDom(dom)
  const dowField = parseDow(dow)
  const spec: CronSpec = {
    type: 'cron',
    source,
    second: toField(parseList(sec, SECOND), SECOND),
    minute: toField(parseList(min, MINUTE), MINUTE),
    hour: toField(parseList(hour, HOUR), HOUR),
    month: toField(parseList(month, MONTH), MONTH),
    dom: domField.days,
    domLast: domField.last,
    dow: dowField.days,
    dowNth: dowField.nth,
    dowLast: dowField.last,
    domRestricted: !isWildcard(dom),
    dowRestricted: !isWildcard(dow),
    hourWildcard: hour === '*' || hour === '?',
  }
  return spec
}

function isWildcard(field: string): boolean {
  return field.startsWith('*') || field === '?'
}

function toField(values: boolean[], def: FieldDef): Field {
  const next = new Array<number>(def.max + 2).fill(-1)
  for (let v = def.max; v >= 0; v--) next[v] = values[v] ? v : next[v + 1]
  return {allowed: values, next}
}

function parseDom(text: string): {days: boolean[]; last: boolean} {
  let last = false
  const rest: string[] = []
  for (const item of text.split(',')) {
    if (item.toUpperCase() === 'L') last = true
    else rest.push(item)
  }
  const days = rest.length ? parseList(rest.join(','), DOM) : new Array<boolean>(32).fill(false)
  return {days, last}
}

function parseDow(text: string): {days: boolean[]; nth: number[][]; last: boolean[]} {
  const nth: number[][] = Array.from({length: 7}, () => [])
  const last = new Array<boolean>(7).fill(false)
  const rest: string[] = []
  for (const item of text.split(',')) {
    const hash = /^(\w+)#(\d+)$/.exec(item)
    const lastMatch = /^(\w+)L$/i.exec(item)
    if (hash) {
      const day = value(hash[1], DOW) % 7
      const n = Number(hash[2])
      if (n < 1 || n > 5) throw new CronSyntaxError(`day-of-week "${item}": the occurrence after # must be 1-5`)
      nth[day].push(n)
    } else if (lastMatch && item.toUpperCase() !== 'L') {
      last[value(lastMatch[1], DOW) % 7] = true
    } else if (item.toUpperCase() === 'L') {
      last[6] = true // Quartz: "L" alone in day-of-week is the last Saturday
    } else {
      rest.push(item)
    }
  }
  const parsed = rest.length ? parseList(rest.join(','), DOW) : new Array<boolean>(8).fill(false)
  const days = parsed.slice(0, 7)
  if (parsed[7]) days[0] = true
  return {days, nth, last}
}

function parseList(text: string, def: FieldDef): boolean[] {
  const out = new Array<boolean>(def.max + 1).fill(false)
  if (text === '') throw new CronSyntaxError(`empty ${def.name} field`)
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/')
    if (extra !== undefined) throw new CronSyntaxError(`${def.name} "${item}": more than one "/"`)
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronSyntaxError(`${def.name} "${item}": the step after "/" must be a positive number`)
      }
      step = Number(stepText)
    }
    let lo: number
    let hi: number
    if (range === '*' || range === '?') {
      lo = def.min
      hi = def.max === 7 ? 6 : def.max
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-')
      if (more !== undefined) throw new CronSyntaxError(`${def.name} "${item}": not a range`)
      lo = value(a, def)
      hi = value(b, def)
      if (lo > hi) {
        throw new CronSyntaxError(`${def.name} range "${range}" runs backwards`, `write it as "${b}-${a}" or a list`)
      }
    } else {
      lo = value(range, def)
      // `n/s` is `n-max/s`, as in cronie and cron-parser: day-of-week runs to 7 so that `5/2`
      // equals `5-7/2` and `7/2` still means Sunday rather than an empty set.
      hi = stepText === undefined ? lo : def.max
    }
    for (let v = lo; v <= hi; v += step) out[v] = true
  }
  return out
}

function value(token: string, def: FieldDef): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token)
    if (n < def.min || n > def.max) {
      throw new CronSyntaxError(`${def.name} value ${n} is out of range ${def.min}-${def.max}`)
    }
    return n
  }
  const index = def.names?.indexOf(token.toUpperCase()) ?? -1
  if (index >= 0) return index + (def.nameBase ?? 0)
  if (token.toUpperCase() === 'H') {
    throw new CronSyntaxError(`${def.name}: "H" (hashed random values) is not supported`, 'use jitter to spread tasks that share a tick')
  }
  throw new CronSyntaxError(
    `${def.name}: "${token}" is not a number${def.names ? ` or a name (${def.names[0]}…${def.names.at(-1)})` : ''}`,
  )
}
