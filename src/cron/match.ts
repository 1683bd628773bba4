import type {CronSpec} from './expression.js'

/**
 * Wall-clock matching. A "civil" time is a wall-clock reading encoded as milliseconds since
 * 1970 as if it were UTC, so calendar arithmetic is Date.UTC arithmetic and no zone is involved.
 */

const DAY_MS = 86_400_000
/** Gregorian weekday/date combinations repeat within 28 years between 1901 and 2099. */
const SEARCH_LIMIT_MS = 29 * 366 * DAY_MS

export function daysInMonth(year: number, month1: number): number {
  return new Date(Date.UTC(year, month1, 0)).getUTCDate()
}

export function dayMatches(spec: CronSpec, year: number, month1: number, day: number, weekday: number): boolean {
  const last = daysInMonth(year, month1)
  const domMatch = spec.dom[day] || (spec.domLast && day === last)
  const dowMatch =
    spec.dow[weekday] || spec.dowNth[weekday].includes(Math.ceil(day / 7)) || (spec.dowLast[weekday] && day + 7 > last)
  if (spec.domRestricted && spec.dowRestricted) return domMatch || dowMatch
  // Vixie ANDs the two sets otherwise: a field starting with `*` may still narrow the days
  // (`*/2` is every other day), so it cannot be treated as "match anything".
  return domMatch && dowMatch
}

/** The first matching civil time strictly after `after` (whole seconds), or undefined if none within ~29 years. */
export function nextCivil(spec: CronSpec, after: number): number | undefined {
  let t = Math.floor(after / 1000) * 1000 + 1000
  const limit = t + SEARCH_LIMIT_MS
  while (t <= limit) {
    const d = new Date(t)
    const y = d.getUTCFullYear()
    const mo = d.getUTCMonth() + 1
    const day = d.getUTCDate()
    if (!spec.month.allowed[mo]) {
      const nm = spec.month.next[mo]
      t = nm === -1 ? Date.UTC(y + 1, spec.month.next[1] - 1, 1) : Date.UTC(y, nm - 1, 1)
      continue
    }
    if (!dayMatches(spec, y, mo, day, d.getUTCDay())) {
      t = Date.UTC(y, mo - 1, day + 1)
      continue
    }
    const h = d.getUTCHours()
    const nh = spec.hour.next[h]
    if (nh === -1) {
      t = Date.UTC(y, mo - 1, day + 1)
      continue
    }
    if (nh !== h) {
      t = Date.UTC(y, mo - 1, day, nh)
      continue
    }
    const mi = d.getUTCMinutes()
    const nmi = spec.minute.next[mi]
    if (nmi === -1) {
      t = Date.UTC(y, mo - 1, day, h + 1)
      continue
    }
    if (nmi !== mi) {
      t = Date.UTC(y, mo - 1, day, h, nmi)
      continue
    }
    const s = d.getUTCSeconds()
    const ns = spec.second.next[s]
    if (ns === -1) {
      t = Date.UTC(y, mo - 1, day, h, mi + 1)
      continue
    }
    return Date.UTC(y, mo - 1, day, h, mi, ns)
  }
  return undefined
}

/** True when the expression matches at least one wall-clock time (rejects "Feb 30"). */
export function canFire(spec: CronSpec): boolean {
  // Every month has days 1–28, each on every weekday over the years: only a day-of-month that
  // allows nothing below 29 can rule out every date, and only that case needs a search.
  if (!spec.domRestricted || spec.dowRestricted || spec.domLast) return true
  for (let day = 1; day <= 28; day++) if (spec.dom[day]) return true
  return nextCivil(spec, Date.UTC(2000, 0, 1) - 1000) !== undefined
}
