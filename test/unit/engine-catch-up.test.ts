import {describe, expect, it} from 'vitest'
import type {CatchUp} from '../../src/core/types.js'
import {MAX_COUNTED_TICKS, missedMessage, planCatchUp, type CatchUpPlan} from '../../src/engine/catch-up.js'
import {M, S, at, cron, every, fmt} from '../support/schedules.js'

/** A plan with instants as ISO strings, for readable tables. */
const readable = (p: CatchUpPlan) => ({
  missed: p.missed,
  atLeast: p.atLeast,
  latestMissed: p.latestMissed === undefined ? undefined : fmt(p.latestMissed),
  runs: p.runs.map(fmt),
})

const hourly = cron('0 * * * *')
const day = (hhmm: string) => `2026-05-04T${hhmm}:00Z`
const CAP = 3

interface Case {
  readonly name: string
  readonly anchor: string
  readonly now: string
  readonly missed: number
  readonly latest?: string
  /** The newest ticks, oldest first, up to CAP: what `all` starts. */
  readonly newest: readonly string[]
}

// Hourly ticks; the anchor is the last tick handled (or when the task was first seen).
const cases: Case[] = [
  {name: 'no tick missed', anchor: day('10:00'), now: day('10:59'), missed: 0, newest: []},
  {name: 'anchor and now in the same instant', anchor: day('10:00'), now: day('10:00'), missed: 0, newest: []},
  {name: 'one tick missed', anchor: day('10:00'), now: day('11:30'), missed: 1, latest: day('11:00'), newest: [day('11:00')]},
  {name: 'several ticks missed', anchor: day('10:00'), now: day('13:30'), missed: 3, latest: day('13:00'), newest: [day('11:00'), day('12:00'), day('13:00')]},
  {name: 'more than max_catch_up_runs missed', anchor: day('10:00'), now: day('16:30'), missed: 6, latest: day('16:00'), newest: [day('14:00'), day('15:00'), day('16:00')]},
  {name: 'anchor exactly on a tick: that tick is handled, not missed', anchor: day('11:00'), now: day('12:30'), missed: 1, latest: day('12:00'), newest: [day('12:00')]},
  {name: 'anchor 1 ms before a tick: the tick is missed', anchor: '2026-05-04T10:59:59.999Z', now: day('11:30'), missed: 1, latest: day('11:00'), newest: [day('11:00')]},
  {name: 'a tick exactly at now is not missed (it is the scheduler’s)', anchor: day('10:00'), now: day('13:00'), missed: 2, latest: day('12:00'), newest: [day('11:00'), day('12:00')]},
  {name: 'a tick 1 ms before now is missed', anchor: day('10:00'), now: '2026-05-04T13:00:00.001Z', missed: 3, latest: day('13:00'), newest: [day('11:00'), day('12:00'), day('13:00')]},
]

describe('planCatchUp: policy × case (hourly, max_catch_up_runs = 3)', () => {
  const policies: Record<CatchUp, (c: Case) => readonly string[]> = {
    latest: (c) => c.newest.slice(-1),
    all: (c) => c.newest,
    skip: () => [],
  }
  for (const c of cases) {
    for (const [policy, runs] of Object.entries(policies) as [CatchUp, (c: Case) => readonly string[]][]) {
      it(`${policy}: ${c.name}`, () => {
        expect(readable(planCatchUp(hourly, at(c.anchor), at(c.now), policy, CAP))).toEqual({
          missed: c.missed,
          atLeast: false,
          latestMissed: c.latest === undefined ? undefined : fmt(at(c.latest)),
          runs: runs(c).map((iso) => fmt(at(iso))),
        })
      })
    }
  }

  it('all: a cap of 1 behaves like latest; a cap above the count starts every tick', () => {
    expect(readable(planCatchUp(hourly, at(day('10:00')), at(day('16:30')), 'all', 1)).runs).toEqual([fmt(at(day('16:00')))])
    expect(readable(planCatchUp(hourly, at(day('10:00')), at(day('16:30')), 'all', 100)).runs).toEqual(
      ['11:00', '12:00', '13:00', '14:00', '15:00', '16:00'].map((h) => fmt(at(day(h)))),
    )
  })
})

describe('planCatchUp: DST and @every', () => {
  const bratislava = cron('0 2 * * *', 'Europe/Bratislava')

  it('a dst_skipped tick is not counted as missed and gets no catch-up run', () => {
    // 2026-10-25: 02:00 CEST = 00:00Z fires, 02:00 CET = 01:00Z is the dst_skipped repeat.
    expect(readable(planCatchUp(bratislava, at('2026-10-24T12:00:00Z'), at('2026-10-26T12:00:00Z'), 'all', 100))).toEqual({
      missed: 2,
      atLeast: false,
      latestMissed: '2026-10-26T01:00:00Z',
      runs: ['2026-10-25T00:00:00Z', '2026-10-26T01:00:00Z'],
    })
  })

  it('down across only the repeated tick: nothing missed', () => {
    expect(readable(planCatchUp(bratislava, at('2026-10-25T00:00:00Z'), at('2026-10-25T12:00:00Z'), 'latest', 100))).toEqual({
      missed: 0,
      atLeast: false,
      latestMissed: undefined,
      runs: [],
    })
  })

  it('a spring-forward tick counts once, at its shifted instant', () => {
    // America/New_York 2027-03-14: 02:30 does not exist and fires at 03:30 EDT = 07:30Z.
    const ny = cron('30 2 * * *', 'America/New_York')
    expect(readable(planCatchUp(ny, at('2027-03-13T12:00:00Z'), at('2027-03-15T12:00:00Z'), 'all', 100))).toEqual({
      missed: 2,
      atLeast: false,
      latestMissed: '2027-03-15T06:30:00Z',
      runs: ['2027-03-14T07:30:00Z', '2027-03-15T06:30:00Z'],
    })
  })

  it('@every anchored at the last tick keeps that rhythm', () => {
    const last = at('2026-05-04T10:03:20Z')
    const schedule = every('@every 10m', last)
    expect(readable(planCatchUp(schedule, last, last + 35 * M, 'all', 100))).toEqual({
      missed: 3,
      atLeast: false,
      latestMissed: '2026-05-04T10:33:20Z',
      runs: ['2026-05-04T10:13:20Z', '2026-05-04T10:23:20Z', '2026-05-04T10:33:20Z'],
    })
    expect(planCatchUp(schedule, last, last + 30 * M, 'latest', 100)).toEqual({missed: 2, atLeast: false, latestMissed: last + 20 * M, runs: [last + 20 * M]})
    expect(planCatchUp(schedule, last, last + 10 * M - 1, 'latest', 100)).toEqual({missed: 0, atLeast: false, latestMissed: undefined, runs: []})
  })
})

describe(`planCatchUp: more than MAX_COUNTED_TICKS (${MAX_COUNTED_TICKS})`, () => {
  // A per-second task down for two days: 172 800 ticks, too many to enumerate.
  const perSecond = cron('* * * * * *')
  const anchor = at('2026-05-01T00:00:00Z')
  const now = at('2026-05-03T00:00:00.500Z')

  it('latest: atLeast, a lower bound, and the latest tick still exact', () => {
    expect(readable(planCatchUp(perSecond, anchor, now, 'latest', 100))).toEqual({
      missed: MAX_COUNTED_TICKS,
      atLeast: true,
      latestMissed: '2026-05-03T00:00:00Z',
      runs: ['2026-05-03T00:00:00Z'],
    })
  })

  it('all: the newest max_catch_up_runs ticks, oldest first', () => {
    expect(readable(planCatchUp(perSecond, anchor, now, 'all', 4))).toEqual({
      missed: MAX_COUNTED_TICKS,
      atLeast: true,
      latestMissed: '2026-05-03T00:00:00Z',
      runs: ['2026-05-02T23:59:57Z', '2026-05-02T23:59:58Z', '2026-05-02T23:59:59Z', '2026-05-03T00:00:00Z'],
    })
  })

  it('skip: counted, none started', () => {
    expect(readable(planCatchUp(perSecond, anchor, now, 'skip', 100))).toEqual({
      missed: MAX_COUNTED_TICKS,
      atLeast: true,
      latestMissed: '2026-05-03T00:00:00Z',
      runs: [],
    })
  })

  it('exactly MAX_COUNTED_TICKS is still an exact count', () => {
    const plan = planCatchUp(perSecond, anchor, anchor + (MAX_COUNTED_TICKS + 1) * S, 'latest', 1)
    expect(plan).toEqual({missed: MAX_COUNTED_TICKS, atLeast: false, latestMissed: anchor + MAX_COUNTED_TICKS * S, runs: [anchor + MAX_COUNTED_TICKS * S]})
    expect(planCatchUp(perSecond, anchor, anchor + (MAX_COUNTED_TICKS + 2) * S, 'latest', 1).atLeast).toBe(true)
  })

  it('a schedule quiet for months before now still finds its latest ticks', () => {
    // Every minute in January only; down from 2023 to June 2026: about 134 000 ticks.
    const january = cron('* * * 1 *')
    expect(readable(planCatchUp(january, at('2023-01-01T00:00:00Z'), at('2026-06-01T00:00:00Z'), 'all', 3))).toEqual({
      missed: MAX_COUNTED_TICKS,
      atLeast: true,
      latestMissed: '2026-01-31T23:59:00Z',
      runs: ['2026-01-31T23:57:00Z', '2026-01-31T23:58:00Z', '2026-01-31T23:59:00Z'],
    })
  })

  it('now exactly on a tick: that tick is not missed, the one before is the latest', () => {
    const perMinute = cron('* * * * *')
    const end = at('2026-05-04T00:00:00Z')
    expect(readable(planCatchUp(perMinute, end - 100 * 86_400_000, end, 'all', 2))).toEqual({
      missed: MAX_COUNTED_TICKS,
      atLeast: true,
      latestMissed: '2026-05-03T23:59:00Z',
      runs: ['2026-05-03T23:58:00Z', '2026-05-03T23:59:00Z'],
    })
  })

  it('all: a cap larger than a day of ticks still keeps the newest cap, in order', () => {
    // Every minute for 100 days: 144 000 ticks; 2000 newest span more than one day.
    const perMinute = cron('* * * * *')
    const end = at('2026-05-04T00:00:30Z')
    const plan = planCatchUp(perMinute, end - 100 * 86_400_000, end, 'all', 2000)
    expect(plan.atLeast).toBe(true)
    expect(plan.runs).toHaveLength(2000)
    expect(plan.runs.every((t, i) => i === 0 || t - plan.runs[i - 1] === M)).toBe(true)
    expect(fmt(plan.runs.at(-1)!)).toBe('2026-05-04T00:00:00Z')
    expect(fmt(plan.runs[0])).toBe(fmt(at('2026-05-04T00:00:00Z') - 1999 * M))
  })
})

describe('missedMessage', () => {
  const plan = (missed: number, atLeast = false): CatchUpPlan => ({missed, atLeast, runs: []})
  it.each([
    [plan(1), '1 tick missed while the daemon was down'],
    [plan(4), '4 ticks missed while the daemon was down'],
    [plan(MAX_COUNTED_TICKS, true), `more than ${MAX_COUNTED_TICKS} ticks missed while the daemon was down`],
  ])('%o → %s', (p, text) => {
    expect(missedMessage(p)).toBe(text)
  })

  it('from a real plan', () => {
    expect(missedMessage(planCatchUp(hourly, at(day('10:00')), at(day('16:30')), 'skip', CAP))).toBe('6 ticks missed while the daemon was down')
  })
})
