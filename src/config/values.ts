import {BYTES_EXAMPLES, parseBytes} from '../core/bytes.js'
import {DURATION_EXAMPLES, NS, formatDuration, parseDuration} from '../core/duration.js'

/**
 * Readers turn a raw TOML value into a typed one or an Invalid saying what is wrong with it.
 * They know nothing of where the value sits; the loader adds key, line and column.
 */
export class Invalid {
  constructor(
    readonly message: string,
    readonly hint?: string,
  ) {}
}

export type Reader<T> = (raw: unknown) => T | Invalid

export function describe(raw: unknown): string {
  if (Array.isArray(raw)) return 'an array'
  if (raw === null || raw === undefined) return 'nothing'
  if (raw instanceof Date) return 'a date'
  if (typeof raw === 'object') return 'a table'
  if (typeof raw === 'string') return `the string ${JSON.stringify(raw)}`
  if (typeof raw === 'number' && !Number.isInteger(raw)) return `the float ${raw}`
  return `${typeof raw === 'number' ? 'the integer' : typeof raw === 'boolean' ? 'the boolean' : typeof raw} ${String(raw)}`
}

export const str: Reader<string> = (raw) =>
  typeof raw === 'string' ? raw : new Invalid(`expected a string, got ${describe(raw)}`)

export const nonEmpty: Reader<string> = (raw) => {
  const s = str(raw)
  if (s instanceof Invalid) return s
  return s.trim() === '' ? new Invalid('must not be empty') : s
}

export const bool: Reader<boolean> = (raw) =>
  typeof raw === 'boolean' ? raw : new Invalid(`expected true or false, got ${describe(raw)}`)

export function int(min: number, max: number): Reader<number> {
  return (raw) => {
    if (typeof raw !== 'number' || !Number.isInteger(raw)) return new Invalid(`expected an integer, got ${describe(raw)}`)
    if (raw < min || raw > max) return new Invalid(`must be ${rangeText(min, max)}, got ${raw}`)
    return raw
  }
}

function rangeText(min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER) return `at least ${min}`
  return `between ${min} and ${max}`
}

export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (raw) => {
    if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T
    const near = typeof raw === 'string' ? values.find((v) => v.toLowerCase() === raw.toLowerCase()) : undefined
    return new Invalid(
      `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${describe(raw)}`,
      near ? `did you mean "${near}"?` : undefined,
    )
  }
}

export interface DurationBounds {
  readonly min?: number
  readonly max?: number
}

/** Durations: a string with units, or integer nanoseconds. */
export function duration(bounds: DurationBounds = {}): Reader<number> {
  return (raw) => {
    let ns: number | undefined
    if (typeof raw === 'number' && Number.isInteger(raw)) ns = raw
    else if (typeof raw === 'string') ns = parseDuration(raw)
    if (ns === undefined) {
      return new Invalid(`expected a duration such as ${DURATION_EXAMPLES}, got ${describe(raw)}`)
    }
    if (ns < (bounds.min ?? 0)) return new Invalid(`must be at least ${formatDuration(bounds.min ?? 0)}, got ${String(raw)}`)
    if (bounds.max !== undefined && ns > bounds.max) {
      return new Invalid(`must be at most ${formatDuration(bounds.max)}, got ${String(raw)}`)
    }
    return ns
  }
}

/** True for bare integers small enough that the author probably meant seconds, not nanoseconds. */
export function looksLikeSecondsInNanoseconds(raw: unknown): boolean {
  return typeof raw === 'number' && raw > 0 && raw < NS.ms
}

export function bytes(min: number): Reader<number> {
  return (raw) => {
    let n: number | undefined
    if (typeof raw === 'number' && Number.isInteger(raw)) n = raw
    else if (typeof raw === 'string') n = parseBytes(raw)
    if (n === undefined) return new Invalid(`expected a size such as ${BYTES_EXAMPLES} or an integer number of bytes, got ${describe(raw)}`)
    if (n < min) return new Invalid(`must be at least ${min} bytes, got ${String(raw)}`)
    return n
  }
}

export function arrayOf<T>(item: Reader<T>, options: {nonEmpty?: boolean} = {}): Reader<T[]> {
  return (raw) => {
    if (!Array.isArray(raw)) return new Invalid(`expected an array, got ${describe(raw)}`)
    if (options.nonEmpty && raw.length === 0) return new Invalid('must not be empty')
    const out: T[] = []
    for (const [i, element] of raw.entries()) {
      const v = item(element)
      if (v instanceof Invalid) return new Invalid(`element ${i}: ${v.message}`, v.hint)
      out.push(v)
    }
    return out
  }
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export const stringMap: Reader<Record<string, string>> = (raw) => {
  if (!isTable(raw)) return new Invalid(`expected a table of NAME = "value", got ${describe(raw)}`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (!ENV_NAME.test(k)) return new Invalid(`"${k}" is not a valid environment variable name`)
    if (typeof v !== 'string') return new Invalid(`${k}: expected a string, got ${describe(v)}`, `quote it: ${k} = "${String(v)}"`)
    out[k] = v
  }
  return out
}

export function isTable(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Date)
}

export const absolutePath: Reader<string> = (raw) => {
  const s = nonEmpty(raw)
  if (s instanceof Invalid) return s
  return s.startsWith('/') ? s : new Invalid(`must be an absolute path, got "${s}"`)
}

/** An absolute http(s) URL. */
export const httpUrl: Reader<string> = (raw) => {
  const s = nonEmpty(raw)
  if (s instanceof Invalid) return s
  if (!URL.canParse(s)) return new Invalid(`expected an http(s) URL, got ${describe(raw)}`, 'write the whole URL, e.g. "https://example.com/path"')
  const {protocol} = new URL(s)
  return protocol === 'http:' || protocol === 'https:' ? s : new Invalid(`expected an http(s) URL, got ${describe(raw)}`)
}

export const umask: Reader<string> = (raw) => {
  const s = str(raw)
  if (s instanceof Invalid) return new Invalid(`${s.message}`, typeof raw === 'number' ? 'write it as an octal string, e.g. umask = "027"' : undefined)
  return /^0?[0-7]{3}$/.test(s) ? s : new Invalid(`must be an octal mask such as "027" or "0022", got ${describe(raw)}`)
}
