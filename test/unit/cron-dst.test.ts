import {describe, expect, it} from 'vitest'
import {parseSchedule, type CronSpec, type EverySpec} from '../../src/cron/expression.js'
import {nextCivil} from '../../src/cron/match.js'
import {CronSchedule, EverySchedule, scheduleFor, type Schedule, type Tick} from '../../src/cron/schedule.js'
import {canonicalZone, civilToInstant, offsetMs, toCivil} from '../../src/cron/zone.js'

/**
 * The DST contract (SPEC §4.2), pinned as exact (instant, kind) sequences:
 *  - spring forward: a wall-clock tick inside the gap fires once, shifted by the gap;
 *  - fall back: the first occurrence fires, the repeated one is `dst_skipped`;
 *  - design choice (Vixie cron): a schedule whose hour field is `*` runs on real time through a
 *    fold, so both passes fire.
 */

const H = 3_600_000
const at = (iso: string): number => Date.parse(iso)
const fmt = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z')

function cron(expr: string): CronSpec {
  const spec = parseSchedule(expr)
  if (spec.type !== 'cron') throw new Error(`${expr} is not a cron expression`)
  return spec
}

function every(expr: string): EverySpec {
  const spec = parseSchedule(expr)
  if (spec.type !== 'every') throw new Error(`${expr} is not @every`)
  return spec
}

const show = (t: Tick): string => `${fmt(t.at)} ${t.kind}`

/** The first `n` ticks strictly after `from`, each as "ISO kind". */
function chain(schedule: Schedule, from: string, n: number): string[] {
  const out: string[] = []
  let t = at(from)
  for (let i = 0; i < n; i++) {
    const tick = schedule.nextTick(t)
    if (!tick) break
    expect(tick.at).toBeGreaterThan(t)
    out.push(show(tick))
    t = tick.at
  }
  return out
}

/** Ticks strictly after `from` and up to `to`. */
function between(schedule: Schedule, from: string, to: string): Tick[] {
  const out: Tick[] = []
  let t = at(from)
  for (;;) {
    const tick = schedule.nextTick(t)
    if (!tick || tick.at > at(to)) return out
    if (tick.at <= t) throw new Error(`nextTick(${fmt(t)}) went backwards to ${fmt(tick.at)}`)
    out.push(tick)
    t = tick.at
  }
}

const cronIn = (expr: string, zone: string): CronSchedule => new CronSchedule(cron(expr), zone)
const next = (expr: string, zone: string, from: string): string => show(cronIn(expr, zone).nextTick(at(from))!)

describe('Europe/Bratislava fall back, 2026-10-25 03:00 CEST → 02:00 CET (01:00Z)', () => {
  const zone = 'Europe/Bratislava'

  it('0 2 * * * fires on the first 02:00, skips the repeated one, then fires the next day', () => {
    expect(chain(cronIn('0 2 * * *', zone), '2026-10-23T12:00:00Z', 5)).toEqual([
      '2026-10-24T00:00:00Z fire', // 02:00 CEST
      '2026-10-25T00:00:00Z fire', // 02:00 CEST, first pass
      '2026-10-25T01:00:00Z dst_skipped', // 02:00 CET, the repeat
      '2026-10-26T01:00:00Z fire', // 02:00 CET
      '2026-10-27T01:00:00Z fire',
    ])
  })

  it('0,30 2 * * * fires twice on that day, not four times', () => {
    const ticks = between(cronIn('0,30 2 * * *', zone), '2026-10-24T12:00:00Z', '2026-10-25T22:00:00Z')
    expect(ticks.map(show)).toEqual([
      '2026-10-25T00:00:00Z fire',
      '2026-10-25T00:30:00Z fire',
      '2026-10-25T01:00:00Z dst_skipped',
      '2026-10-25T01:30:00Z dst_skipped',
    ])
    expect(ticks.filter((t) => t.kind === 'fire')).toHaveLength(2)
  })

  it('a skipped tick carries the wall clock it matched', () => {
    const tick = cronIn('30 2 * * *', zone).nextTick(at('2026-10-25T00:30:00Z'))!
    expect(show(tick)).toBe('2026-10-25T01:30:00Z dst_skipped')
    expect(tick.wall).toBe(at('2026-10-25T02:30:00Z'))
    expect(tick.shiftedMs).toBeUndefined()
  })

  it('a fixed hour with a wildcard minute is still skipped in the repeat', () => {
    expect(chain(cronIn('*/30 2 * * *', zone), '2026-10-24T23:59:00Z', 5)).toEqual([
      '2026-10-25T00:00:00Z fire',
      '2026-10-25T00:30:00Z fire',
      '2026-10-25T01:00:00Z dst_skipped',
      '2026-10-25T01:30:00Z dst_skipped',
      '2026-10-26T01:00:00Z fire',
    ])
  })

  it('*/30 * * * * (hour *) fires on real time through the fold: both passes, every 30 minutes', () => {
    // Documented design choice, as in Vixie cron: a wildcard-hour job keeps its real-time rhythm.
    expect(chain(cronIn('*/30 * * * *', zone), '2026-10-24T23:00:00Z', 7)).toEqual([
      '2026-10-24T23:30:00Z fire', // 01:30 CEST
      '2026-10-25T00:00:00Z fire', // 02:00 CEST
      '2026-10-25T00:30:00Z fire', // 02:30 CEST
      '2026-10-25T01:00:00Z fire', // 02:00 CET
      '2026-10-25T01:30:00Z fire', // 02:30 CET
      '2026-10-25T02:00:00Z fire', // 03:00 CET
      '2026-10-25T02:30:00Z fire',
    ])
  })

  it('0 * * * * (hour *) fires every real hour through the fold', () => {
    expect(chain(cronIn('0 * * * *', zone), '2026-10-24T22:30:00Z', 4)).toEqual([
      '2026-10-24T23:00:00Z fire',
      '2026-10-25T00:00:00Z fire',
      '2026-10-25T01:00:00Z fire',
      '2026-10-25T02:00:00Z fire',
    ])
  })

  it('nextTick from instants inside the fold returns the right next event', () => {
    // 0 2 * * *
    expect(next('0 2 * * *', zone, '2026-10-24T23:59:59.999Z')).toBe('2026-10-25T00:00:00Z fire')
    expect(next('0 2 * * *', zone, '2026-10-25T00:00:00Z')).toBe('2026-10-25T01:00:00Z dst_skipped')
    expect(next('0 2 * * *', zone, '2026-10-25T00:30:00Z')).toBe('2026-10-25T01:00:00Z dst_skipped') // first pass
    expect(next('0 2 * * *', zone, '2026-10-25T00:59:59.999Z')).toBe('2026-10-25T01:00:00Z dst_skipped')
    expect(next('0 2 * * *', zone, '2026-10-25T01:00:00Z')).toBe('2026-10-26T01:00:00Z fire')
    expect(next('0 2 * * *', zone, '2026-10-25T01:30:00Z')).toBe('2026-10-26T01:00:00Z fire') // second pass
    // 30 2 * * *: the second pass has not reached 02:30 yet
    expect(next('30 2 * * *', zone, '2026-10-25T00:45:00Z')).toBe('2026-10-25T01:30:00Z dst_skipped')
    expect(next('30 2 * * *', zone, '2026-10-25T01:15:00Z')).toBe('2026-10-25T01:30:00Z dst_skipped')
    expect(next('30 2 * * *', zone, '2026-10-25T01:45:00Z')).toBe('2026-10-26T01:30:00Z fire')
    // wildcard hour
    expect(next('*/30 * * * *', zone, '2026-10-25T00:45:00Z')).toBe('2026-10-25T01:00:00Z fire')
    expect(next('*/30 * * * *', zone, '2026-10-25T01:15:00Z')).toBe('2026-10-25T01:30:00Z fire')
    // a daily time outside the fold is not disturbed by it
    expect(next('0 4 * * *', zone, '2026-10-25T00:30:00Z')).toBe('2026-10-25T03:00:00Z fire')
    expect(next('0 1 * * *', zone, '2026-10-25T00:30:00Z')).toBe('2026-10-26T00:00:00Z fire')
  })
})

describe('America/New_York spring forward, 2027-03-14 02:00 EST → 03:00 EDT (07:00Z)', () => {
  const zone = 'America/New_York'

  it('30 2 * * * fires at 03:30 EDT, shifted by the gap, then at 02:30 EDT the next day', () => {
    const s = cronIn('30 2 * * *', zone)
    expect(chain(s, '2027-03-12T12:00:00Z', 3)).toEqual([
      '2027-03-13T07:30:00Z fire', // 02:30 EST
      '2027-03-14T07:30:00Z fire', // 03:30 EDT
      '2027-03-15T06:30:00Z fire', // 02:30 EDT
    ])
    const shifted = s.nextTick(at('2027-03-13T12:00:00Z'))!
    expect(shifted.at).toBe(at('2027-03-14T07:30:00Z'))
    expect(shifted.shiftedMs).toBe(H)
    expect(shifted.wall).toBe(at('2027-03-14T02:30:00Z'))
    expect(s.nextTick(shifted.at)!.shiftedMs).toBeUndefined()
  })

  it('every tick inside the gap fires once, shifted', () => {
    expect(chain(cronIn('0,30 2 * * *', zone), '2027-03-14T05:00:00Z', 3)).toEqual([
      '2027-03-14T07:00:00Z fire', // 02:00 → 03:00 EDT
      '2027-03-14T07:30:00Z fire', // 02:30 → 03:30 EDT
      '2027-03-15T06:00:00Z fire',
    ])
  })

  it('a shifted tick that lands on a real tick of the same schedule fires once', () => {
    // 02:15 is shifted to 03:15 EDT, which is also the schedule's own 03:15.
    expect(chain(cronIn('15 2,3 * * *', zone), '2027-03-14T05:00:00Z', 3)).toEqual([
      '2027-03-14T07:15:00Z fire',
      '2027-03-15T06:15:00Z fire', // 02:15 EDT
      '2027-03-15T07:15:00Z fire', // 03:15 EDT
    ])
  })

  it('30 * * * * fires once at 03:30 (shifted 02:30 and real 03:30 are one instant)', () => {
    const ticks = between(cronIn('30 * * * *', zone), '2027-03-14T05:00:00Z', '2027-03-14T09:00:00Z')
    expect(ticks.map((t) => `${fmt(t.at)} ${t.kind}`)).toEqual([
      '2027-03-14T05:30:00Z fire', // 00:30 EST
      '2027-03-14T06:30:00Z fire', // 01:30 EST
      '2027-03-14T07:30:00Z fire', // 03:30 EDT
      '2027-03-14T08:30:00Z fire', // 04:30 EDT
    ])
  })

  it('*/30 * * * * runs on real time across the gap', () => {
    expect(chain(cronIn('*/30 * * * *', zone), '2027-03-14T06:00:00Z', 4)).toEqual([
      '2027-03-14T06:30:00Z fire', // 01:30 EST
      '2027-03-14T07:00:00Z fire', // 03:00 EDT
      '2027-03-14T07:30:00Z fire',
      '2027-03-14T08:00:00Z fire',
    ])
  })

  it('nextTick from inside the gap hour and just after it', () => {
    expect(next('30 2 * * *', zone, '2027-03-14T06:59:59Z')).toBe('2027-03-14T07:30:00Z fire')
    expect(next('30 2 * * *', zone, '2027-03-14T07:00:00Z')).toBe('2027-03-14T07:30:00Z fire')
    expect(next('30 2 * * *', zone, '2027-03-14T07:29:59.999Z')).toBe('2027-03-14T07:30:00Z fire')
    expect(next('30 2 * * *', zone, '2027-03-14T07:30:00Z')).toBe('2027-03-15T06:30:00Z fire')
  })

  it('fall back 2026-11-01 (02:00 EDT → 01:00 EST): 30 1 * * * fires once', () => {
    expect(chain(cronIn('30 1 * * *', zone), '2026-10-31T12:00:00Z', 4)).toEqual([
      '2026-11-01T05:30:00Z fire', // 01:30 EDT
      '2026-11-01T06:30:00Z dst_skipped', // 01:30 EST
      '2026-11-02T06:30:00Z fire',
      '2026-11-03T06:30:00Z fire',
    ])
  })
})

describe('southern hemisphere and half-hour zones', () => {
  it('Australia/Sydney spring forward 2026-10-04 (02:00 AEST → 03:00 AEDT)', () => {
    const s = cronIn('30 2 * * *', 'Australia/Sydney')
    expect(chain(s, '2026-10-02T12:00:00Z', 3)).toEqual([
      '2026-10-02T16:30:00Z fire', // 02:30 AEST
      '2026-10-03T16:30:00Z fire', // 03:30 AEDT
      '2026-10-04T15:30:00Z fire', // 02:30 AEDT
    ])
    expect(s.nextTick(at('2026-10-03T12:00:00Z'))!.shiftedMs).toBe(H)
  })

  it('Australia/Sydney fall back 2026-04-05 (03:00 AEDT → 02:00 AEST)', () => {
    expect(chain(cronIn('30 2 * * *', 'Australia/Sydney'), '2026-04-03T12:00:00Z', 4)).toEqual([
      '2026-04-03T15:30:00Z fire', // 02:30 AEDT
      '2026-04-04T15:30:00Z fire', // 02:30 AEDT, first pass
      '2026-04-04T16:30:00Z dst_skipped', // 02:30 AEST
      '2026-04-05T16:30:00Z fire', // 02:30 AEST
    ])
  })

  it('Australia/Lord_Howe spring forward 2026-10-04 by 30 minutes (02:00 → 02:30)', () => {
    const s = cronIn('15 2 * * *', 'Australia/Lord_Howe')
    expect(chain(s, '2026-10-02T12:00:00Z', 3)).toEqual([
      '2026-10-02T15:45:00Z fire', // 02:15 +10:30
      '2026-10-03T15:45:00Z fire', // 02:45 +11, shifted by 30 minutes
      '2026-10-04T15:15:00Z fire', // 02:15 +11
    ])
    expect(s.nextTick(at('2026-10-03T12:00:00Z'))!.shiftedMs).toBe(H / 2)
    // A wildcard-hour schedule keeps a real 15-minute rhythm across the half-hour gap.
    expect(chain(cronIn('*/15 * * * *', 'Australia/Lord_Howe'), '2026-10-03T15:00:00Z', 4)).toEqual([
      '2026-10-03T15:15:00Z fire', // 01:45 +10:30
      '2026-10-03T15:30:00Z fire', // 02:30 +11
      '2026-10-03T15:45:00Z fire',
      '2026-10-03T16:00:00Z fire',
    ])
  })

  it('Australia/Lord_Howe fall back 2026-04-05 by 30 minutes (02:00 → 01:30)', () => {
    expect(chain(cronIn('45 1 * * *', 'Australia/Lord_Howe'), '2026-04-04T12:00:00Z', 3)).toEqual([
      '2026-04-04T14:45:00Z fire', // 01:45 +11
      '2026-04-04T15:15:00Z dst_skipped', // 01:45 +10:30
      '2026-04-05T15:15:00Z fire',
    ])
    // 02:00 is past the repeated half hour, so it happens once.
    expect(chain(cronIn('0 2 * * *', 'Australia/Lord_Howe'), '2026-04-04T12:00:00Z', 2)).toEqual([
      '2026-04-04T15:30:00Z fire',
      '2026-04-05T15:30:00Z fire',
    ])
  })

  it('Asia/Kolkata (+05:30, no DST)', () => {
    expect(chain(cronIn('0 9 * * *', 'Asia/Kolkata'), '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T03:30:00Z fire',
      '2026-10-25T03:30:00Z fire',
      '2026-10-26T03:30:00Z fire',
    ])
    expect(chain(cronIn('30 15 0 * * *', 'Asia/Kolkata'), '2026-03-28T18:00:00Z', 2)).toEqual([
      '2026-03-28T18:45:30Z fire',
      '2026-03-29T18:45:30Z fire',
    ])
  })

  it('UTC has no gaps or folds', () => {
    expect(chain(cronIn('0 2 * * *', 'UTC'), '2026-10-24T12:00:00Z', 3)).toEqual([
      '2026-10-25T02:00:00Z fire',
      '2026-10-26T02:00:00Z fire',
      '2026-10-27T02:00:00Z fire',
    ])
    expect(chain(cronIn('30 2 * * *', 'UTC'), '2027-03-14T00:00:00Z', 2)).toEqual([
      '2027-03-14T02:30:00Z fire',
      '2027-03-15T02:30:00Z fire',
    ])
  })

  it('America/Santiago changes at midnight: the gap and the fold cross a day boundary', () => {
    // 2026-09-06 00:00 -04 → 01:00 -03 (04:00Z): midnight does not exist that day.
    expect(chain(cronIn('0 0 * * *', 'America/Santiago'), '2026-09-05T00:00:00Z', 3)).toEqual([
      '2026-09-05T04:00:00Z fire', // 00:00 -04
      '2026-09-06T04:00:00Z fire', // 01:00 -03, shifted
      '2026-09-07T03:00:00Z fire', // 00:00 -03
    ])
    // 2026-04-05 00:00 -03 → 2026-04-04 23:00 -04 (03:00Z): 23:30 on the 4th happens twice.
    expect(chain(cronIn('30 23 * * *', 'America/Santiago'), '2026-04-03T12:00:00Z', 4)).toEqual([
      '2026-04-04T02:30:00Z fire', // 23:30 -03 on the 3rd
      '2026-04-05T02:30:00Z fire', // 23:30 -03 on the 4th
      '2026-04-05T03:30:00Z dst_skipped', // 23:30 -04 on the 4th
      '2026-04-06T03:30:00Z fire', // 23:30 -04 on the 5th
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// Exhaustive check around each transition against a brute-force reading of SPEC §4.2: walk real
// time minute by minute, read the wall clock with Intl (not zone.ts), and derive the ticks the
// contract demands. Then every nextTick(x) for x on and between the minutes must agree.
// ---------------------------------------------------------------------------------------------

const wallFormatters = new Map<string, Intl.DateTimeFormat>()

function wallOf(instant: number, zone: string): number {
  let f = wallFormatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    wallFormatters.set(zone, f)
  }
  const p: Record<string, number> = {}
  for (const part of f.formatToParts(new Date(instant))) p[part.type] = Number(part.value)
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
}

interface Event {
  at: number
  kind: Tick['kind']
}

/** Minute-resolution expressions only: the events the contract demands in [from, to]. */
function contractEvents(expr: string, zone: string, from: number, to: number): Event[] {
  const spec = cron(expr)
  const matches = (wall: number): boolean => nextCivil(spec, wall - 1000) === wall
  const hourIsStar = expr.trim().split(/\s+/)[1] === '*'
  const events = new Map<number, Tick['kind']>()
  const seen = new Set<number>()
  const MIN = 60_000
  let prevWall = wallOf(from - 6 * H - MIN, zone)
  for (let t = from - 6 * H; t <= to + 6 * H; t += MIN) {
    const wall = wallOf(t, zone)
    // Walls skipped by a spring-forward jump fire once, shifted by the gap.
    for (let g = prevWall + MIN; g < wall; g += MIN) {
      if (matches(g)) events.set(t - MIN + (g - prevWall), 'fire')
    }
    if (matches(wall)) {
      const kind = seen.has(wall) && !hourIsStar ? 'dst_skipped' : 'fire'
      if (events.get(t) !== 'fire') events.set(t, kind)
    }
    seen.add(wall)
    prevWall = wall
  }
  return [...events]
    .filter(([instant]) => instant >= from && instant <= to)
    .sort((a, b) => a[0] - b[0])
    .map(([instant, kind]) => ({at: instant, kind}))
}

const TRANSITIONS: readonly (readonly [string, string])[] = [
  ['Europe/Bratislava', '2026-03-29T01:00:00Z'],
  ['Europe/Bratislava', '2026-10-25T01:00:00Z'],
  ['America/New_York', '2026-11-01T06:00:00Z'],
  ['America/New_York', '2027-03-14T07:00:00Z'],
  ['Australia/Sydney', '2026-04-04T16:00:00Z'],
  ['Australia/Sydney', '2026-10-03T16:00:00Z'],
  ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
  ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
  ['America/Santiago', '2026-04-05T03:00:00Z'],
  ['America/Santiago', '2026-09-06T04:00:00Z'],
]

const EXPRESSIONS = [
  '0 2 * * *',
  '30 2 * * *',
  '0,30 2 * * *',
  '45 1 * * *',
  '59 1 * * *',
  '0 3 * * *',
  '*/15 1-3 * * *',
  '15 2,3 * * *',
  '* 2 * * *',
  '0 0 * * *',
  '30 23 * * *',
  '*/30 * * * *',
  '0 * * * *',
  '30 * * * *',
  '*/7 * * * *',
  '0 */2 * * *',
]

describe('exhaustive: nextTick around transitions matches the contract', () => {
  it('sees each listed transition in zone.ts too', () => {
    for (const [zone, instant] of TRANSITIONS) {
      expect(offsetMs(at(instant) - 1, zone), `${zone} ${instant}`).not.toBe(offsetMs(at(instant), zone))
    }
  })

  it.each(TRANSITIONS)('%s at %s', (zone, instant) => {
    const from = at(instant) - 5 * H
    const to = at(instant) + 5 * H
    for (const expr of EXPRESSIONS) {
      const expected = contractEvents(expr, zone, from, to + 3 * H)
      const schedule = cronIn(expr, zone)
      // The chain from the start of the window.
      const got = between(schedule, new Date(from).toISOString(), new Date(to).toISOString())
      const want = expected.filter((e) => e.at > from && e.at <= to)
      expect(got.map(show), expr).toEqual(want.map((e) => `${fmt(e.at)} ${e.kind}`))
      // Every starting point: on the minute, just after it, and half a minute later.
      for (let x = from; x <= to; x += 60_000) {
        for (const after of [x, x + 1, x + 30_000]) {
          const wantNext = expected.find((e) => e.at > after)
          if (!wantNext) continue
          const tick = schedule.nextTick(after)
          expect(tick && show(tick), `${expr} after ${new Date(after).toISOString()}`).toBe(
            `${fmt(wantNext.at)} ${wantNext.kind}`,
          )
        }
      }
    }
  })
})

describe('EverySchedule (@every)', () => {
  it('ticks at anchor + k·interval, strictly after the given instant', () => {
    const anchor = at('2026-10-24T23:00:00Z')
    const s = new EverySchedule(every('@every 90s'), anchor)
    expect(s.zone).toBeUndefined()
    expect(fmt(s.nextTick(anchor).at)).toBe('2026-10-24T23:01:30Z')
    expect(fmt(s.nextTick(anchor + 89_999).at)).toBe('2026-10-24T23:01:30Z')
    expect(fmt(s.nextTick(anchor + 90_000).at)).toBe('2026-10-24T23:03:00Z')
    expect(fmt(s.nextTick(anchor + 10 * 90_000 + 1).at)).toBe('2026-10-24T23:16:30Z')
    // Before the anchor the first tick is anchor + interval (k ≥ 1).
    expect(fmt(s.nextTick(anchor - 5 * H).at)).toBe('2026-10-24T23:01:30Z')
    expect(s.nextTick(anchor)).toEqual({at: anchor + 90_000, kind: 'fire', wall: anchor + 90_000})
  })

  it('ignores DST: an hourly @every keeps exact real-time spacing through a fold', () => {
    // Anchored 00:30 CEST on 2026-10-25 in Bratislava; the clock falls back at 01:00Z.
    const s = new EverySchedule(every('@every 1h'), at('2026-10-24T22:30:00Z'))
    expect(chain(s, '2026-10-24T22:30:00Z', 5)).toEqual([
      '2026-10-24T23:30:00Z fire',
      '2026-10-25T00:30:00Z fire',
      '2026-10-25T01:30:00Z fire',
      '2026-10-25T02:30:00Z fire',
      '2026-10-25T03:30:00Z fire',
    ])
    // And through a spring-forward gap.
    const s2 = new EverySchedule(every('@every 45m'), at('2027-03-14T06:00:00Z'))
    expect(chain(s2, '2027-03-14T06:00:00Z', 3)).toEqual([
      '2027-03-14T06:45:00Z fire',
      '2027-03-14T07:30:00Z fire',
      '2027-03-14T08:15:00Z fire',
    ])
  })

  it('scheduleFor picks the schedule by type', () => {
    const anchor = at('2026-01-01T00:00:00Z')
    const c = scheduleFor(cron('0 2 * * *'), 'Europe/Bratislava', anchor)
    expect(c).toBeInstanceOf(CronSchedule)
    expect(c.zone).toBe('Europe/Bratislava')
    const e = scheduleFor(every('@every 90s'), 'Europe/Bratislava', anchor)
    expect(e).toBeInstanceOf(EverySchedule)
    expect(e.zone).toBeUndefined()
    expect(fmt(e.nextTick(anchor)!.at)).toBe('2026-01-01T00:01:30Z')
  })
})

describe('zone.ts', () => {
  it('canonicalZone accepts IANA names, case-insensitively, and rejects others', () => {
    expect(canonicalZone('Europe/Bratislava')).toBe('Europe/Bratislava')
    expect(canonicalZone('europe/bratislava')).toBe('Europe/Bratislava')
    expect(canonicalZone('America/New_York')).toBe('America/New_York')
    expect(canonicalZone('UTC')).toBe('UTC')
    expect(canonicalZone('utc')).toBe('UTC')
    expect(canonicalZone('Nowhere/Land')).toBeUndefined()
    expect(canonicalZone('Europe/Bratislav')).toBeUndefined()
    expect(canonicalZone('')).toBeUndefined()
    expect(canonicalZone('   ')).toBeUndefined()
    expect(canonicalZone('local')).toBeUndefined()
  })

  it('civilToInstant maps an ordinary wall time to one instant', () => {
    expect(civilToInstant(at('2026-07-01T12:00:00Z'), 'Europe/Bratislava')).toEqual({
      type: 'unique',
      instant: at('2026-07-01T10:00:00Z'),
    })
    expect(civilToInstant(at('2026-01-15T12:00:00Z'), 'Europe/Bratislava')).toEqual({
      type: 'unique',
      instant: at('2026-01-15T11:00:00Z'),
    })
    expect(civilToInstant(at('2026-06-01T12:00:00Z'), 'Asia/Kolkata')).toEqual({
      type: 'unique',
      instant: at('2026-06-01T06:30:00Z'),
    })
    expect(civilToInstant(at('2026-10-25T02:30:00Z'), 'UTC')).toEqual({type: 'unique', instant: at('2026-10-25T02:30:00Z')})
  })

  it('civilToInstant maps a fold wall time to both instants, edges included', () => {
    const z = 'Europe/Bratislava'
    expect(civilToInstant(at('2026-10-25T02:30:00Z'), z)).toEqual({
      type: 'fold',
      first: at('2026-10-25T00:30:00Z'),
      second: at('2026-10-25T01:30:00Z'),
    })
    expect(civilToInstant(at('2026-10-25T02:00:00Z'), z)).toEqual({
      type: 'fold',
      first: at('2026-10-25T00:00:00Z'),
      second: at('2026-10-25T01:00:00Z'),
    })
    expect(civilToInstant(at('2026-10-25T02:59:59Z'), z)).toEqual({
      type: 'fold',
      first: at('2026-10-25T00:59:59Z'),
      second: at('2026-10-25T01:59:59Z'),
    })
    expect(civilToInstant(at('2026-10-25T01:59:59Z'), z)).toEqual({type: 'unique', instant: at('2026-10-24T23:59:59Z')})
    expect(civilToInstant(at('2026-10-25T03:00:00Z'), z)).toEqual({type: 'unique', instant: at('2026-10-25T02:00:00Z')})
    expect(civilToInstant(at('2026-04-05T01:45:00Z'), 'Australia/Lord_Howe')).toEqual({
      type: 'fold',
      first: at('2026-04-04T14:45:00Z'),
      second: at('2026-04-04T15:15:00Z'),
    })
  })

  it('civilToInstant maps a gap wall time to the instant shifted by the gap', () => {
    const z = 'Europe/Bratislava'
    expect(civilToInstant(at('2026-03-29T02:30:00Z'), z)).toEqual({
      type: 'gap',
      shifted: at('2026-03-29T01:30:00Z'), // 03:30 CEST
      gapMs: H,
    })
    expect(civilToInstant(at('2026-03-29T02:00:00Z'), z)).toEqual({type: 'gap', shifted: at('2026-03-29T01:00:00Z'), gapMs: H})
    expect(civilToInstant(at('2026-03-29T01:59:59Z'), z)).toEqual({type: 'unique', instant: at('2026-03-29T00:59:59Z')})
    expect(civilToInstant(at('2026-03-29T03:00:00Z'), z)).toEqual({type: 'unique', instant: at('2026-03-29T01:00:00Z')})
    expect(civilToInstant(at('2027-03-14T02:30:00Z'), 'America/New_York')).toEqual({
      type: 'gap',
      shifted: at('2027-03-14T07:30:00Z'),
      gapMs: H,
    })
    expect(civilToInstant(at('2026-10-04T02:15:00Z'), 'Australia/Lord_Howe')).toEqual({
      type: 'gap',
      shifted: at('2026-10-03T15:45:00Z'), // 02:45 +11
      gapMs: H / 2,
    })
  })

  it('offsetMs changes exactly at the transition', () => {
    const z = 'Europe/Bratislava'
    expect(offsetMs(at('2026-10-25T00:59:59.999Z'), z)).toBe(2 * H)
    expect(offsetMs(at('2026-10-25T01:00:00Z'), z)).toBe(H)
    expect(offsetMs(at('2026-03-29T00:59:59.999Z'), z)).toBe(H)
    expect(offsetMs(at('2026-03-29T01:00:00Z'), z)).toBe(2 * H)
    expect(offsetMs(at('2027-03-14T06:59:59Z'), 'America/New_York')).toBe(-5 * H)
    expect(offsetMs(at('2027-03-14T07:00:00Z'), 'America/New_York')).toBe(-4 * H)
    expect(offsetMs(at('2026-10-03T15:29:59Z'), 'Australia/Lord_Howe')).toBe(10.5 * H)
    expect(offsetMs(at('2026-10-03T15:30:00Z'), 'Australia/Lord_Howe')).toBe(11 * H)
    expect(offsetMs(at('2026-06-01T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * H)
    expect(offsetMs(at('2026-06-01T00:00:00Z'), 'UTC')).toBe(0)
  })

  it('toCivil reads the wall clock, milliseconds included, on both passes of a fold', () => {
    const z = 'Europe/Bratislava'
    expect(toCivil(at('2026-10-25T00:59:59.500Z'), z)).toBe(at('2026-10-25T02:59:59.500Z'))
    expect(toCivil(at('2026-10-25T01:00:00Z'), z)).toBe(at('2026-10-25T02:00:00Z'))
    expect(toCivil(at('2026-10-25T00:00:00Z'), z)).toBe(at('2026-10-25T02:00:00Z'))
  })
})
