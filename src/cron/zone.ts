import {readlinkSync} from 'node:fs'

/**
 * IANA time zones through Intl: offsets and the mapping between instants and wall-clock
 * ("civil") times, including the two DST cases — a civil time in a spring-forward gap has no
 * instant, one in a fall-back fold has two.
 */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(zone, f)
  }
  return f
}

/** Names of UTC, which need no zone data. */
const UTC_ALIASES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'GMT0', 'Etc/Greenwich', 'Greenwich'])

/** The canonical name of an IANA zone, or undefined when Intl does not know it. */
export function canonicalZone(zone: string): string | undefined {
  if (zone.trim() === '') return undefined
  if (UTC_ALIASES.has(zone)) return 'UTC'
  try {
    return new Intl.DateTimeFormat('en-US', {timeZone: zone}).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

/**
 * The host's zone, found the way the C library finds it — $TZ, else the /etc/localtime link —
 * so that a host on UTC never loads ICU's zone data (8 MB of resident memory) just to learn it.
 * Intl decides only when neither names an IANA zone.
 */
export function hostZone(env: NodeJS.ProcessEnv = process.env): string {
  let name: string | undefined
  if (env.TZ !== undefined) name = env.TZ.replace(/^:/, '') || 'UTC'
  else {
    try {
      name = /zoneinfo\/(.+)$/.exec(readlinkSync('/etc/localtime'))?.[1]
    } catch {
      name = undefined
    }
  }
  if (name !== undefined && UTC_ALIASES.has(name)) return 'UTC'
  if (name !== undefined && name.includes('/')) {
    const canonical = canonicalZone(name)
    if (canonical) return canonical
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

function wallClock(instant: number, zone: string): number {
  const ms = ((instant % 1000) + 1000) % 1000
  const v: Record<string, number> = {}
  for (const part of formatter(zone).formatToParts(new Date(instant - ms))) v[part.type] = Number(part.value)
  return Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second) + ms
}

/**
 * Offsets change only at transitions, which tzdata places on whole quarter hours, so one
 * Intl lookup per zone and quarter hour serves every instant inside it.
 */
const QUARTER_HOUR_MS = 900_000
const offsetCache = new Map<string, Map<number, number>>()

export function offsetMs(instant: number, zone: string): number {
  if (zone === 'UTC') return 0
  let byBucket = offsetCache.get(zone)
  if (!byBucket) offsetCache.set(zone, (byBucket = new Map()))
  const bucket = Math.floor(instant / QUARTER_HOUR_MS)
  let offset = byBucket.get(bucket)
  if (offset === undefined) {
    const start = bucket * QUARTER_HOUR_MS
    offset = wallClock(start, zone) - start
    if (byBucket.size > 10_000) byBucket.clear()
    byBucket.set(bucket, offset)
  }
  return offset
}

/** The wall-clock reading of `instant` in `zone`, as civil milliseconds. */
export function toCivil(instant: number, zone: string): number {
  return instant + offsetMs(instant, zone)
}

/** "2026-11-30 02:00:00" in the given zone. */
export function formatCivil(instant: number, zone: string): string {
  return new Date(toCivil(instant, zone)).toISOString().slice(0, 19).replace('T', ' ')
}

export interface Transition {
  /** The instant the new offset takes effect. */
  readonly at: number
  readonly before: number
  readonly after: number
}

/** The offset change between two instants, if any (the first, should there be several). */
export function transitionBetween(from: number, to: number, zone: string): Transition | undefined {
  const before = offsetMs(from, zone)
  if (before === offsetMs(to, zone)) return undefined
  // Binary search over quarter-hour buckets, where transitions happen (see offsetMs).
  let lo = Math.floor(from / QUARTER_HOUR_MS)
  let hi = Math.floor(to / QUARTER_HOUR_MS)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (offsetMs(mid * QUARTER_HOUR_MS, zone) === before) lo = mid
    else hi = mid
  }
  const at = hi * QUARTER_HOUR_MS
  return {at, before, after: offsetMs(at, zone)}
}

export type CivilMapping =
  | {readonly type: 'unique'; readonly instant: number}
  | {readonly type: 'fold'; readonly first: number; readonly second: number}
  | {readonly type: 'gap'; readonly shifted: number; readonly gapMs: number}

const PROBE_MS = 86_400_000

export function civilToInstant(civil: number, zone: string): CivilMapping {
  if (zone === 'UTC') return {type: 'unique', instant: civil}
  const before = offsetMs(civil - PROBE_MS, zone)
  const after = offsetMs(civil + PROBE_MS, zone)
  const candidates = [...new Set([civil - before, civil - after])]
    .filter((instant) => toCivil(instant, zone) === civil)
    .sort((a, b) => a - b)
  if (candidates.length === 2) return {type: 'fold', first: candidates[0], second: candidates[1]}
  if (candidates.length === 1) return {type: 'unique', instant: candidates[0]}
  // In a gap the clock jumps forward: read the wall time with the offset in force before it,
  // which lands the same distance past the jump (02:30 in a 02:00→03:00 gap becomes 03:30).
  return {type: 'gap', shifted: civil - before, gapMs: after - before}
}
