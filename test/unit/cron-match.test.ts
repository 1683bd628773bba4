import {CronExpressionParser} from 'cron-parser'
import {describe, expect, it} from 'vitest'
import {parseSchedule, type CronSpec} from '../../src/cron/expression.js'
import {canFire, dayMatches, daysInMonth, nextCivil} from '../../src/cron/match.js'
import {CronSchedule} from '../../src/cron/schedule.js'

function cron(expr: string): CronSpec {
  const spec = parseSchedule(expr)
  if (spec.type !== 'cron') throw new Error(`${expr} is not a cron expression`)
  return spec
}

/** Civil times are wall clocks encoded as UTC milliseconds, so ISO strings without a zone read naturally. */
const civil = (iso: string): number => Date.parse(`${iso}Z`)
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19)

/** The first `n` civil matches strictly after `from`, as ISO strings without the zone. */
function civilChain(expr: string, from: string, n: number): string[] {
  const spec = cron(expr)
  const out: string[] = []
  let t: number | undefined = civil(from)
  for (let i = 0; i < n; i++) {
    t = nextCivil(spec, t)
    if (t === undefined) break
    out.push(iso(t))
  }
  return out
}

/** dayMatches with the weekday taken from the calendar, so a test cannot pass a wrong weekday. */
function matchesDay(expr: string, date: string): boolean {
  const d = new Date(`${date}T00:00:00Z`)
  return dayMatches(cron(expr), d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCDay())
}

describe('daysInMonth', () => {
  it('knows month lengths and Gregorian leap years', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2026, m))).toEqual([
      31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ])
    expect(daysInMonth(2028, 2)).toBe(29)
    expect(daysInMonth(2000, 2)).toBe(29)
    expect(daysInMonth(2100, 2)).toBe(28)
  })
})

describe('day-of-month / day-of-week: POSIX (Vixie) rule', () => {
  // 2026-01-01 is a Thursday; the Fridays of January 2026 are 2, 9, 16, 23, 30 and the 13th is a Tuesday.
  it('ORs the two day fields when both are restricted', () => {
    expect(civilChain('0 0 13 * 5', '2026-01-01T00:00:00', 8)).toEqual([
      '2026-01-02T00:00:00',
      '2026-01-09T00:00:00',
      '2026-01-13T00:00:00',
      '2026-01-16T00:00:00',
      '2026-01-23T00:00:00',
      '2026-01-30T00:00:00',
      '2026-02-06T00:00:00',
      '2026-02-13T00:00:00',
    ])
    expect(matchesDay('0 0 13 * 5', '2026-01-13')).toBe(true) // a Tuesday, matched by day-of-month
    expect(matchesDay('0 0 13 * 5', '2026-01-16')).toBe(true) // a Friday, matched by day-of-week
    expect(matchesDay('0 0 13 * 5', '2026-01-14')).toBe(false)
  })

  it('uses only day-of-week when day-of-month is * or ?', () => {
    expect(civilChain('0 0 * * 5', '2026-01-01T00:00:00', 3)).toEqual([
      '2026-01-02T00:00:00',
      '2026-01-09T00:00:00',
      '2026-01-16T00:00:00',
    ])
    expect(civilChain('0 0 ? * FRI', '2026-01-01T00:00:00', 3)).toEqual([
      '2026-01-02T00:00:00',
      '2026-01-09T00:00:00',
      '2026-01-16T00:00:00',
    ])
  })

  it('uses only day-of-month when day-of-week is * or ?', () => {
    expect(civilChain('0 0 13 * *', '2026-01-01T00:00:00', 2)).toEqual(['2026-01-13T00:00:00', '2026-02-13T00:00:00'])
    expect(civilChain('0 0 13 * ?', '2026-01-01T00:00:00', 2)).toEqual(['2026-01-13T00:00:00', '2026-02-13T00:00:00'])
  })

  it('ANDs the fields when day-of-month starts with * (e.g. */2)', () => {
    // Odd days that are Fridays. ORed, 2026-01-02 (an even Friday) and 2026-01-03 (odd) would appear.
    expect(civilChain('0 0 */2 * 5', '2026-01-01T00:00:00', 4)).toEqual([
      '2026-01-09T00:00:00',
      '2026-01-23T00:00:00',
      '2026-02-13T00:00:00',
      '2026-02-27T00:00:00',
    ])
  })

  it('ANDs the fields when day-of-week starts with * (e.g. */2)', () => {
    // The 1st of the month on a Sunday, Tuesday, Thursday or Saturday: 2026-02-01 Sun, 03-01 Sun, 08-01 Sat.
    expect(civilChain('0 0 1 * */2', '2026-01-01T00:00:00', 3)).toEqual([
      '2026-02-01T00:00:00',
      '2026-03-01T00:00:00',
      '2026-08-01T00:00:00',
    ])
  })

  it('a stepped * still narrows the days when the other day field is *', () => {
    // Every other day of the month: the 31st is followed by the 1st, not the 2nd.
    expect(civilChain('0 0 */2 * *', '2026-01-28T00:00:00', 4)).toEqual([
      '2026-01-29T00:00:00',
      '2026-01-31T00:00:00',
      '2026-02-01T00:00:00',
      '2026-02-03T00:00:00',
    ])
    // Sundays, Tuesdays, Thursdays and Saturdays (2026-01-01 is a Thursday).
    expect(civilChain('0 0 * * */2', '2026-01-01T00:00:00', 4)).toEqual([
      '2026-01-03T00:00:00',
      '2026-01-04T00:00:00',
      '2026-01-06T00:00:00',
      '2026-01-08T00:00:00',
    ])
    expect(matchesDay('0 0 */2 * *', '2026-01-02')).toBe(false)
  })

  it('day-of-week n/s reaches Sunday as 7', () => {
    // 5/2 = 5,7: Fridays and Sundays. 7/2: Sundays only.
    expect(civilChain('0 0 * * 5/2', '2026-01-01T00:00:00', 4)).toEqual([
      '2026-01-02T00:00:00',
      '2026-01-04T00:00:00',
      '2026-01-09T00:00:00',
      '2026-01-11T00:00:00',
    ])
    expect(canFire(cron('0 0 * * 7/2'))).toBe(true)
    expect(civilChain('0 0 * * 7/2', '2026-01-01T00:00:00', 2)).toEqual(['2026-01-04T00:00:00', '2026-01-11T00:00:00'])
  })

  it('treats an explicit full range (1-31) as restricted, so it is ORed', () => {
    expect(civilChain('0 0 1-31 * 1', '2026-01-01T00:00:00', 2)).toEqual(['2026-01-02T00:00:00', '2026-01-03T00:00:00'])
  })
})

describe('L, nL and n#k', () => {
  it('L in day-of-month is the last day of each month, leap years included', () => {
    expect(civilChain('0 0 L * *', '2026-01-01T00:00:00', 4)).toEqual([
      '2026-01-31T00:00:00',
      '2026-02-28T00:00:00',
      '2026-03-31T00:00:00',
      '2026-04-30T00:00:00',
    ])
    expect(civilChain('0 0 L 2 *', '2026-01-01T00:00:00', 3)).toEqual([
      '2026-02-28T00:00:00',
      '2027-02-28T00:00:00',
      '2028-02-29T00:00:00',
    ])
  })

  it('L mixes with other days of the month', () => {
    expect(civilChain('0 0 1,L * *', '2026-01-15T00:00:00', 4)).toEqual([
      '2026-01-31T00:00:00',
      '2026-02-01T00:00:00',
      '2026-02-28T00:00:00',
      '2026-03-01T00:00:00',
    ])
  })

  it('L in day-of-month is ORed with a restricted day-of-week', () => {
    // Last day of the month, or any Monday (Mondays of Jan 2026: 5, 12, 19, 26).
    expect(civilChain('0 0 L * 1', '2026-01-20T00:00:00', 3)).toEqual([
      '2026-01-26T00:00:00',
      '2026-01-31T00:00:00',
      '2026-02-02T00:00:00',
    ])
  })

  it('nL is the last such weekday of the month', () => {
    expect(civilChain('0 0 * * 5L', '2026-01-01T00:00:00', 5)).toEqual([
      '2026-01-30T00:00:00',
      '2026-02-27T00:00:00',
      '2026-03-27T00:00:00',
      '2026-04-24T00:00:00',
      '2026-05-29T00:00:00',
    ])
    // 7L and 0L are both the last Sunday.
    const lastSundays = ['2026-01-25T00:00:00', '2026-02-22T00:00:00', '2026-03-29T00:00:00']
    expect(civilChain('0 0 * * 7L', '2026-01-01T00:00:00', 3)).toEqual(lastSundays)
    expect(civilChain('0 0 * * 0L', '2026-01-01T00:00:00', 3)).toEqual(lastSundays)
    expect(matchesDay('0 0 * * 5L', '2026-01-23')).toBe(false) // a Friday, but not the last one
  })

  it('n#k is the k-th such weekday of the month', () => {
    expect(civilChain('0 0 * * 1#1', '2026-01-01T00:00:00', 3)).toEqual([
      '2026-01-05T00:00:00',
      '2026-02-02T00:00:00',
      '2026-03-02T00:00:00',
    ])
    expect(civilChain('0 0 * * FRI#3', '2026-01-01T00:00:00', 3)).toEqual([
      '2026-01-16T00:00:00',
      '2026-02-20T00:00:00',
      '2026-03-20T00:00:00',
    ])
    // A fifth Tuesday exists only in some months: March, June, September and December 2026.
    expect(civilChain('0 0 * * 2#5', '2026-01-01T00:00:00', 4)).toEqual([
      '2026-03-31T00:00:00',
      '2026-06-30T00:00:00',
      '2026-09-29T00:00:00',
      '2026-12-29T00:00:00',
    ])
    expect(matchesDay('0 0 * * 5#3', '2026-01-09')).toBe(false)
    expect(matchesDay('0 0 * * 5#3', '2026-01-16')).toBe(true)
  })

  it('several # and L items can be listed in one day-of-week field', () => {
    // First Monday, or the last Friday: Jan 2026 → 5th and 30th.
    expect(civilChain('0 0 * * 1#1,5L', '2026-01-01T00:00:00', 4)).toEqual([
      '2026-01-05T00:00:00',
      '2026-01-30T00:00:00',
      '2026-02-02T00:00:00',
      '2026-02-27T00:00:00',
    ])
  })
})

describe('nextCivil', () => {
  it('fires on February 29 only in leap years (2100 is not one)', () => {
    expect(civilChain('0 0 29 2 *', '2026-01-01T00:00:00', 3)).toEqual([
      '2028-02-29T00:00:00',
      '2032-02-29T00:00:00',
      '2036-02-29T00:00:00',
    ])
    expect(civilChain('0 0 29 2 *', '2096-03-01T00:00:00', 1)).toEqual(['2104-02-29T00:00:00'])
  })

  it('is strictly after its argument and ignores milliseconds', () => {
    expect(civilChain('0 12 * * *', '2026-05-05T12:00:00', 1)).toEqual(['2026-05-06T12:00:00'])
    expect(iso(nextCivil(cron('0 12 * * *'), civil('2026-05-05T11:59:59.999'))!)).toBe('2026-05-05T12:00:00')
    expect(iso(nextCivil(cron('* * * * * *'), civil('2026-05-05T11:59:59.999'))!)).toBe('2026-05-05T12:00:00')
    expect(iso(nextCivil(cron('* * * * * *'), civil('2026-05-05T12:00:00.001'))!)).toBe('2026-05-05T12:00:01')
  })

  it('rolls minutes, hours and days over', () => {
    expect(civilChain('10,50 * * * *', '2026-05-05T10:55:00', 2)).toEqual(['2026-05-05T11:10:00', '2026-05-05T11:50:00'])
    expect(civilChain('0 9-10 * * *', '2026-05-05T10:00:00', 2)).toEqual(['2026-05-06T09:00:00', '2026-05-06T10:00:00'])
    expect(civilChain('15,45 30 9 * * *', '2026-05-05T09:30:45', 1)).toEqual(['2026-05-06T09:30:15'])
  })

  it('rolls months over, skipping months without the day', () => {
    expect(civilChain('0 0 1 * *', '2026-01-15T00:00:00', 2)).toEqual(['2026-02-01T00:00:00', '2026-03-01T00:00:00'])
    expect(civilChain('0 0 31 * *', '2026-01-31T00:00:00', 3)).toEqual([
      '2026-03-31T00:00:00',
      '2026-05-31T00:00:00',
      '2026-07-31T00:00:00',
    ])
    expect(civilChain('30 23 L * *', '2026-02-28T23:30:00', 1)).toEqual(['2026-03-31T23:30:00'])
  })

  it('rolls years over', () => {
    expect(civilChain('0 0 1 1 *', '2026-06-01T00:00:00', 2)).toEqual(['2027-01-01T00:00:00', '2028-01-01T00:00:00'])
    expect(civilChain('59 59 23 31 12 *', '2026-01-01T00:00:00', 2)).toEqual([
      '2026-12-31T23:59:59',
      '2027-12-31T23:59:59',
    ])
    expect(civilChain('0 12 * * *', '2026-12-31T12:00:00', 1)).toEqual(['2027-01-01T12:00:00'])
    expect(civilChain('0 0 * 3 *', '2026-03-31T00:00:00', 1)).toEqual(['2027-03-01T00:00:00'])
    expect(civilChain('0 0 * * * *', '2026-12-31T23:59:59', 1)).toEqual(['2027-01-01T00:00:00'])
  })

  it('returns undefined for an expression that never fires', () => {
    expect(nextCivil(cron('0 0 30 2 *'), civil('2026-01-01T00:00:00'))).toBeUndefined()
  })
})

describe('canFire', () => {
  it('rejects days that no allowed month has', () => {
    expect(canFire(cron('0 0 30 2 *'))).toBe(false)
    expect(canFire(cron('0 0 31 2 *'))).toBe(false)
    expect(canFire(cron('0 0 31 4,6,9,11 *'))).toBe(false)
    expect(canFire(cron('0 0 30,31 FEB *'))).toBe(false)
  })

  it('accepts rare but real days', () => {
    expect(canFire(cron('0 0 29 2 *'))).toBe(true)
    expect(canFire(cron('0 0 31 * *'))).toBe(true)
    expect(canFire(cron('0 0 31 4,5 *'))).toBe(true)
    expect(canFire(cron('0 0 * 2 1#5'))).toBe(true) // Feb 29 on a Monday (2016, 2044)
    expect(canFire(cron('0 0 L 2 *'))).toBe(true)
  })

  it('accepts Feb 30 when a restricted day-of-week is ORed in', () => {
    expect(canFire(cron('0 0 30 2 1'))).toBe(true)
    expect(civilChain('0 0 30 2 1', '2026-01-01T00:00:00', 2)).toEqual(['2026-02-02T00:00:00', '2026-02-09T00:00:00'])
  })
})

// ---------------------------------------------------------------------------------------------
// Differential test against cron-parser@5 (test-only oracle), in UTC.
//
// Constructs excluded, each a documented difference rather than a bug on either side:
//  - `*/n` in one day field while the other day field is restricted. cron-parser treats only a
//    bare `*` or `?` as unrestricted and ORs the fields; we follow Vixie/POSIX (a field starting
//    with `*` is unrestricted, so the fields are ANDed). Covered by the Vixie tests above.
//  - `L` alone in day-of-week: cron-parser rejects it ("unexpected standalone L"); we read it as
//    Quartz does (the last Saturday).
//  - `n#k` inside a list: cron-parser accepts `#` only as the whole field; we allow lists.
//  - Duplicate values in a field (`1,1`, `1-5,3`, `0,7` in day-of-week): cron-parser rejects them,
//    we accept them. The generator builds disjoint lists.
// Expressions cron-parser rejects as an impossible day of month ("0 0 30 2 *") must be ones our
// canFire rejects too.
// ---------------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface FieldShape {
  min: number
  max: number
  names?: string[]
}

class Gen {
  constructor(private readonly rnd: () => number) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.rnd() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]
  }

  private token(v: number, shape: FieldShape): string {
    if (shape.names && this.chance(0.3)) {
      const name = shape.names[v - shape.min]
      return this.pick([name, name.toLowerCase(), name[0] + name.slice(1).toLowerCase()])
    }
    return String(v)
  }

  /** A list of increasing, disjoint segments (values, ranges, stepped ranges) inside [lo, hi]. */
  private segments(shape: FieldShape, lo: number, hi: number): string[] {
    const items: string[] = []
    let at = lo
    const count = this.int(1, 4)
    for (let i = 0; i < count && at <= hi; i++) {
      const a = this.int(at, Math.min(hi, at + Math.ceil((hi - lo) / 3)))
      const kind = this.int(0, 2)
      if (kind === 0 || a === hi) {
        items.push(this.token(a, shape))
        at = a + 2
      } else {
        const b = this.int(a + 1, Math.min(hi, a + Math.ceil((hi - lo) / 2)))
        const range = `${this.token(a, shape)}-${this.token(b, shape)}`
        items.push(kind === 1 ? range : `${range}/${this.int(2, Math.max(2, b - a + 1))}`)
        at = b + 2
      }
    }
    return items
  }

  field(shape: FieldShape): string {
    const {min, max} = shape
    const r = this.rnd()
    if (r < 0.3) return '*'
    if (r < 0.42) return `*/${this.int(2, max - min)}`
    if (r < 0.52) return `${this.token(this.int(min, max), shape)}/${this.int(2, max - min)}`
    return this.segments(shape, min, max).join(',')
  }

  dom(): string {
    const r = this.rnd()
    if (r < 0.05) return '?'
    if (r < 0.12) return 'L'
    const base = this.field({min: 1, max: 31})
    if (r < 0.2 && base !== '*' && !base.startsWith('*')) return `${base},L`
    return base
  }

  dow(): string {
    const shape = {min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']}
    const r = this.rnd()
    if (r < 0.05) return '?'
    if (r < 0.13) return `${this.token(this.int(0, 6), shape)}#${this.int(1, 5)}`
    if (r < 0.2) return `${this.int(0, 7)}L`
    const base = this.field(shape)
    if (base === '7') return base
    // Sunday as 7 now and then; only for a lone Sunday so the field never lists 0 and 7 together.
    if (base === '0' && this.chance(0.5)) return '7'
    if (r < 0.28 && !base.startsWith('*')) return `${base},${this.int(1, 6)}L`
    return base
  }

  expression(): string {
    const parts: string[] = []
    if (this.chance(0.4)) parts.push(this.field({min: 0, max: 59}))
    parts.push(this.field({min: 0, max: 59}))
    parts.push(this.field({min: 0, max: 23}))
    let dom = this.dom()
    const month = this.field({
      min: 1,
      max: 12,
      names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    })
    let dow = this.dow()
    const restricted = (f: string): boolean => f !== '*' && f !== '?'
    // See the exclusions above: Vixie and cron-parser disagree on `*/n` next to a restricted day field.
    while (dom.startsWith('*') && dom !== '*' && restricted(dow)) dom = this.dom()
    while (dow.startsWith('*') && dow !== '*' && restricted(dom)) dow = this.dow()
    parts.push(dom, month, dow)
    return parts.join(' ')
  }
}

const START_DATES = ['2026-01-01T00:00:00.000Z', '2027-02-28T23:59:59.500Z', '2028-02-29T12:34:56.000Z', '2031-12-31T23:59:30.000Z']
const TICKS = 20

function ours(expr: string, start: string): string[] {
  const schedule = new CronSchedule(cron(expr), 'UTC')
  const out: string[] = []
  let t = Date.parse(start)
  for (let i = 0; i < TICKS; i++) {
    const tick = schedule.nextTick(t)
    if (!tick) break
    expect(tick.kind).toBe('fire')
    out.push(new Date(tick.at).toISOString())
    t = tick.at
  }
  return out
}

function theirs(expr: string, start: string): string[] {
  const it = CronExpressionParser.parse(expr, {tz: 'UTC', currentDate: new Date(start)})
  const out: string[] = []
  for (let i = 0; i < TICKS; i++) out.push(it.next().toDate().toISOString())
  return out
}

describe('differential: CronSchedule(UTC) vs cron-parser', () => {
  const gen = new Gen(mulberry32(20_260_325))
  const expressions = Array.from({length: 400}, () => gen.expression())

  it('generates a varied corpus', () => {
    const count = (re: RegExp): number => expressions.filter((e) => re.test(e)).length
    expect(new Set(expressions).size).toBeGreaterThan(390)
    expect(count(/^\S+(\s+\S+){5}$/)).toBeGreaterThan(100) // 6 fields
    expect(count(/^\S+(\s+\S+){4}$/)).toBeGreaterThan(100) // 5 fields
    expect(count(/#/)).toBeGreaterThan(10)
    expect(count(/\dL/)).toBeGreaterThan(10)
    expect(count(/(^|[\s,])L(\s|$)/)).toBeGreaterThan(10)
    expect(count(/[A-Za-z]{3}/)).toBeGreaterThan(50)
    expect(count(/\//)).toBeGreaterThan(100)
    expect(count(/\d-\d|[a-z]-[A-Za-z]/i)).toBeGreaterThan(100)
    expect(count(/,/)).toBeGreaterThan(100)
  })

  it.each(expressions.map((e, i) => [i, e]))('#%i %s', (_i, expr) => {
    let oracleRejects: string | undefined
    try {
      CronExpressionParser.parse(expr, {tz: 'UTC', currentDate: new Date(START_DATES[0])})
    } catch (error) {
      oracleRejects = (error as Error).message
    }
    if (oracleRejects !== undefined) {
      expect(oracleRejects).toBe('Invalid explicit day of month definition')
      expect(canFire(cron(expr))).toBe(false)
      return
    }
    for (const start of START_DATES) expect(ours(expr, start), `from ${start}`).toEqual(theirs(expr, start))
  })
})
