/**
 * Durations are kept as integer nanoseconds (the API's unit). Config strings use Go-like units
 * plus days and weeks: "300ms", "5s", "1h30m", "2d", "1.5w".
 */
export const NS = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86_400e9,
  w: 604_800e9,
} as const

const UNIT_NS: Record<string, number> = {...NS, 'µs': NS.us, 'μs': NS.us}
// µ (micro sign) and μ (Greek mu) escaped: one non-ASCII character would make the whole bundle's
// source a two-byte string, twice the memory in every process that loads it.
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h|d|w)/y

export const DURATION_EXAMPLES = '"300ms", "5s", "1h30m", "2d"'

/** Parses a duration string into nanoseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim()
  if (s === '0') return 0
  if (s === '') return undefined
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex
    const m = PART.exec(s)
    if (!m || m.index !== start) return undefined
    total += Number(m[1]) * UNIT_NS[m[2]]
  }
  return Math.round(total)
}

/** Human form, largest units first: 5400e9 → "1h30m", 1.5e6 → "1.5ms". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s'
  // Pick the unit from the rounded value so 999.9999ms reads "1s", not "1000ms".
  if (ns < NS.us) return `${ns}ns`
  if (Math.round(ns / NS.us) < 1000) return `${trim(ns / NS.us)}µs`
  if (Math.round(ns / NS.ms) < 1000) return `${trim(ns / NS.ms)}ms`
  if (Math.round((ns / NS.s) * 1000) / 1000 < 60) return `${trim(ns / NS.s)}s`
  let rest = Math.round(ns / NS.s)
  let out = ''
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) out += `${n}${unit}`
    rest -= n * size
  }
  return out
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000)
}

export const msToNs = (ms: number): number => Math.round(ms * NS.ms)

/** "in 9h12m" / "5m ago", to the second. */
export function formatRelative(instant: number, now: number): string {
  const delta = Math.round((instant - now) / 1000) * 1000
  if (delta === 0) return 'now'
  const text = formatDuration(msToNs(Math.abs(delta)))
  return delta > 0 ? `in ${text}` : `${text} ago`
}
