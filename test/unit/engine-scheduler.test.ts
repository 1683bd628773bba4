import {describe, expect, it} from 'vitest'
import type {Unit} from '../../src/core/types.js'
import type {Schedule} from '../../src/cron/schedule.js'
import {MAX_WAIT_MS, Scheduler, type ScheduledUnit} from '../../src/engine/scheduler.js'
import {FakeClock} from '../support/fake-clock.js'
import {H, M, S, at, cron, every, fmt} from '../support/schedules.js'

/** The scheduler reads only the unit's name. */
const unit = (name: string): Unit => ({name}) as Unit
const entry = (name: string, schedule: Schedule, after: number): ScheduledUnit => ({unit: unit(name), schedule, after})

interface Fired {
  readonly name: string
  readonly kind: 'fire' | 'dst_skipped'
  /** The tick's instant. */
  readonly tick: string
  /** The clock when onTick ran. */
  readonly now: string
  readonly coalesced: number
}

function harness(start: string) {
  const clock = new FakeClock(at(start))
  const fired: Fired[] = []
  const scheduler = new Scheduler(clock, (d) => fired.push({name: d.unit.name, kind: d.tick.kind, tick: fmt(d.tick.at), now: fmt(clock.now()), coalesced: d.coalesced}))
  return {clock, fired, scheduler}
}

/** A tick fired on its instant, nothing folded. */
const onTime = (name: string, iso: string, kind: Fired['kind'] = 'fire'): Fired => ({name, kind, tick: iso, now: iso, coalesced: 0})

describe('Scheduler: each tick fires exactly at its instant', () => {
  it('cron: */15 * * * * from 10:07 to 11:00', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:07:13Z')
    scheduler.start([entry('q', cron('*/15 * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T11:00:00Z'))
    expect(fired).toEqual([
      onTime('q', '2026-05-04T10:15:00Z'),
      onTime('q', '2026-05-04T10:30:00Z'),
      onTime('q', '2026-05-04T10:45:00Z'),
      onTime('q', '2026-05-04T11:00:00Z'),
    ])
  })

  it('cron with a seconds field: */20 * * * * *', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:05Z')
    scheduler.start([entry('s', cron('*/20 * * * * *'), clock.now())])
    clock.advance(60 * S)
    expect(fired).toEqual([onTime('s', '2026-05-04T10:00:20Z'), onTime('s', '2026-05-04T10:00:40Z'), onTime('s', '2026-05-04T10:01:00Z')])
  })

  it('@every 90s anchored at the start, in real time', () => {
    const start = at('2026-05-04T10:00:00.250Z')
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00.250Z')
    scheduler.start([entry('e', every('@every 90s', start), start)])
    clock.advance(5 * M)
    const ticks = [1, 2, 3].map((k) => new Date(start + k * 90 * S).toISOString())
    expect(fired).toEqual(ticks.map((iso) => onTime('e', fmt(Date.parse(iso)))))
    expect(ticks).toEqual(['2026-05-04T10:01:30.250Z', '2026-05-04T10:03:00.250Z', '2026-05-04T10:04:30.250Z'])
  })

  it('several units interleave in time order; a shared instant fires both in one wake', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('ten', cron('*/10 * * * *'), clock.now()), entry('four', cron('*/4 * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T10:20:00Z'))
    expect(fired.map((f) => `${f.now} ${f.name}`)).toEqual([
      '2026-05-04T10:04:00Z four',
      '2026-05-04T10:08:00Z four',
      '2026-05-04T10:10:00Z ten',
      '2026-05-04T10:12:00Z four',
      '2026-05-04T10:16:00Z four',
      '2026-05-04T10:20:00Z ten',
      '2026-05-04T10:20:00Z four',
    ])
    expect(fired.every((f) => f.now === f.tick && f.coalesced === 0)).toBe(true)
  })

  it('does not fire a tick at or before `after`', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('q', cron('*/15 * * * *'), at('2026-05-04T10:15:00Z'))])
    clock.advanceTo(at('2026-05-04T10:30:00Z'))
    expect(fired).toEqual([onTime('q', '2026-05-04T10:30:00Z')])
  })

  it('arms nothing before start() and with nothing scheduled', () => {
    const {clock, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.set([entry('q', cron('* * * * *'), clock.now())])
    expect(clock.pending()).toBe(0)
    scheduler.start([])
    expect(clock.pending()).toBe(0)
  })
})

describe('Scheduler: never one long timer (SPEC §4.2)', () => {
  it(`a yearly schedule is waited for in steps of at most ${MAX_WAIT_MS} ms, and fires on its instant`, () => {
    const {clock, fired, scheduler} = harness('2026-12-31T22:00:00.400Z')
    scheduler.start([entry('y', cron('@yearly'), clock.now())])
    expect(clock.delays).toEqual([MAX_WAIT_MS])
    expect(clock.pending()).toBe(1)
    clock.advanceTo(at('2027-01-01T00:00:00Z') - 1)
    expect(fired).toEqual([])
    clock.advance(1)
    expect(fired).toEqual([onTime('y', '2027-01-01T00:00:00Z')])
    // 2 h minus 0.4 s: 239 steps of 30 s, the remaining 29.6 s, then 30 s towards next year.
    expect(clock.delays).toEqual([...Array(239).fill(MAX_WAIT_MS), 29_600, MAX_WAIT_MS])
    expect(clock.pending()).toBe(1)
  })

  it('re-reads the clock on every wake: after a forward jump the wait is measured from the new time', () => {
    const {clock, fired, scheduler} = harness('2026-03-01T00:00:00Z')
    scheduler.start([entry('y', cron('@yearly'), clock.now())])
    clock.advance(10 * S)
    clock.set(at('2026-12-31T23:59:55Z')) // the wall clock jumps to 5 s before the tick
    expect(fired).toEqual([])
    clock.runDue()
    expect(fired).toEqual([])
    expect(clock.delays.slice(-2)).toEqual([MAX_WAIT_MS, 5 * S])
    clock.advance(5 * S)
    expect(fired).toEqual([onTime('y', '2027-01-01T00:00:00Z')])
  })
})

describe('Scheduler: the DST contract (SPEC §4.2)', () => {
  it('Europe/Bratislava 2026-10-25, 0 2 * * *: fire, dst_skipped, fire the next day', () => {
    const {clock, fired, scheduler} = harness('2026-10-24T12:00:00Z')
    scheduler.start([entry('b', cron('0 2 * * *', 'Europe/Bratislava'), clock.now())])
    clock.advanceTo(at('2026-10-26T12:00:00Z'))
    expect(fired).toEqual([
      onTime('b', '2026-10-25T00:00:00Z'), // 02:00 CEST
      onTime('b', '2026-10-25T01:00:00Z', 'dst_skipped'), // 02:00 CET, the repeat
      onTime('b', '2026-10-26T01:00:00Z'), // 02:00 CET
    ])
  })

  it('Europe/Bratislava 2026-10-25, 0,30 2 * * *: fires 2 times that day, not 4', () => {
    const {clock, fired, scheduler} = harness('2026-10-24T12:00:00Z')
    scheduler.start([entry('b', cron('0,30 2 * * *', 'Europe/Bratislava'), clock.now())])
    clock.advanceTo(at('2026-10-25T22:00:00Z'))
    expect(fired).toEqual([
      onTime('b', '2026-10-25T00:00:00Z'),
      onTime('b', '2026-10-25T00:30:00Z'),
      onTime('b', '2026-10-25T01:00:00Z', 'dst_skipped'),
      onTime('b', '2026-10-25T01:30:00Z', 'dst_skipped'),
    ])
    expect(fired.filter((f) => f.kind === 'fire')).toHaveLength(2)
  })

  it('America/New_York 2027-03-14, 30 2 * * *: fires at 03:30 EDT (07:30Z), then 02:30 EDT', () => {
    const {clock, fired, scheduler} = harness('2027-03-13T12:00:00Z')
    scheduler.start([entry('ny', cron('30 2 * * *', 'America/New_York'), clock.now())])
    clock.advanceTo(at('2027-03-15T12:00:00Z'))
    expect(fired).toEqual([onTime('ny', '2027-03-14T07:30:00Z'), onTime('ny', '2027-03-15T06:30:00Z')])
  })
})

describe('Scheduler: suspend and clock jumps', () => {
  it('a forward jump across several ticks fires the latest once, with coalesced = the number folded', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:02:00Z')
    scheduler.start([entry('five', cron('*/5 * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T10:04:00Z'))
    clock.set(at('2026-05-04T10:31:07Z')) // 10:05 … 10:30 came due: 6 ticks
    clock.runDue()
    expect(fired).toEqual([{name: 'five', kind: 'fire', tick: '2026-05-04T10:30:00Z', now: '2026-05-04T10:31:07Z', coalesced: 5}])
    clock.advanceTo(at('2026-05-04T10:35:00Z'))
    expect(fired.slice(1)).toEqual([onTime('five', '2026-05-04T10:35:00Z')])
  })

  it('a daemon a few seconds behind fires every tick it owes, each on its own', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('sec', cron('* * * * * *'), clock.now())])
    clock.set(at('2026-05-04T10:00:03.400Z')) // the event loop was busy for 3.4 s
    clock.runDue()
    const now = '2026-05-04T10:00:03.400Z'
    expect(fired).toEqual(['01', '02', '03'].map((s) => ({name: 'sec', kind: 'fire', tick: `2026-05-04T10:00:${s}Z`, now, coalesced: 0})))
    // Ten seconds behind is still "busy"; eleven is a gap, folded.
    clock.set(at('2026-05-04T10:00:13.000Z'))
    clock.runDue()
    expect(fired.slice(3).map((f) => f.coalesced)).toEqual(Array(10).fill(0))
    clock.set(at('2026-05-04T10:00:24.500Z'))
    clock.runDue()
    expect(fired.slice(13)).toEqual([{name: 'sec', kind: 'fire', tick: '2026-05-04T10:00:24Z', now: '2026-05-04T10:00:24.500Z', coalesced: 10}])
  })

  it('a jump past exactly one tick fires it with nothing folded', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:02:00Z')
    scheduler.start([entry('five', cron('*/5 * * * *'), clock.now())])
    clock.set(at('2026-05-04T10:09:59Z'))
    clock.runDue()
    expect(fired).toEqual([{name: 'five', kind: 'fire', tick: '2026-05-04T10:05:00Z', now: '2026-05-04T10:09:59Z', coalesced: 0}])
  })

  it('@every across a suspend: the latest tick, the rest counted', () => {
    const start = at('2026-05-04T10:00:00Z')
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('e', every('@every 1m', start), start)])
    clock.set(start + 10 * M + 30 * S)
    clock.runDue()
    expect(fired).toEqual([{name: 'e', kind: 'fire', tick: '2026-05-04T10:10:00Z', now: '2026-05-04T10:10:30Z', coalesced: 9}])
    clock.advance(30 * S)
    expect(fired.slice(1)).toEqual([onTime('e', '2026-05-04T10:11:00Z')])
  })

  it('each unit folds its own ticks; dst_skipped ticks are still delivered, in tick order', () => {
    const {clock, fired, scheduler} = harness('2026-10-24T23:50:00Z')
    scheduler.start([entry('b', cron('0,30 2 * * *', 'Europe/Bratislava'), clock.now()), entry('h', cron('0 * * * *'), clock.now())])
    clock.set(at('2026-10-25T01:45:00Z')) // suspended across the fold
    clock.runDue()
    const now = '2026-10-25T01:45:00Z'
    expect(fired).toEqual([
      {name: 'b', kind: 'fire', tick: '2026-10-25T00:30:00Z', now, coalesced: 1},
      {name: 'b', kind: 'dst_skipped', tick: '2026-10-25T01:00:00Z', now, coalesced: 0},
      {name: 'h', kind: 'fire', tick: '2026-10-25T01:00:00Z', now, coalesced: 1},
      {name: 'b', kind: 'dst_skipped', tick: '2026-10-25T01:30:00Z', now, coalesced: 0},
    ])
  })

  it('a jump over more ticks than one wake walks still fires the latest, with the exact count', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('sec', cron('* * * * * *'), clock.now())])
    clock.set(at('2026-05-04T13:00:00.500Z')) // 3 h asleep: 10 800 ticks
    clock.runDue()
    expect(fired).toEqual([{name: 'sec', kind: 'fire', tick: '2026-05-04T13:00:00Z', now: '2026-05-04T13:00:00.500Z', coalesced: 10_799}])
    clock.advance(500)
    expect(fired.slice(1)).toEqual([onTime('sec', '2026-05-04T13:00:01Z')])
  })

  it('a clock set decades forward (a dead RTC, then NTP) fires today’s tick, not one from decades ago', () => {
    const {clock, fired, scheduler} = harness('1996-01-01T00:00:00Z')
    scheduler.start([entry('daily', cron('0 3 * * *'), clock.now())])
    clock.set(at('2026-05-04T12:00:00Z'))
    clock.runDue()
    const days = (at('2026-05-04T00:00:00Z') - at('1996-01-01T00:00:00Z')) / 86_400_000 + 1
    expect(days).toBeGreaterThan(10_000)
    expect(fired).toEqual([{name: 'daily', kind: 'fire', tick: '2026-05-04T03:00:00Z', now: '2026-05-04T12:00:00Z', coalesced: days - 1}])
    expect(fmt(scheduler.nextFire('daily')!)).toBe('2026-05-05T03:00:00Z')
  })

  it('a backward jump does not fire again ticks already handled', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:02:00Z')
    scheduler.start([entry('five', cron('*/5 * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T10:05:00Z'))
    expect(fired).toEqual([onTime('five', '2026-05-04T10:05:00Z')])
    clock.set(at('2026-05-04T10:01:00Z')) // NTP steps the clock back 4 minutes
    clock.runDue()
    clock.advanceTo(at('2026-05-04T10:09:59Z'))
    expect(fired).toHaveLength(1)
    clock.advanceTo(at('2026-05-04T10:10:30Z'))
    expect(fired.map((f) => f.tick)).toEqual(['2026-05-04T10:05:00Z', '2026-05-04T10:10:00Z'])
    expect(fired[1].now).toBe('2026-05-04T10:10:00Z')
  })
})

describe('Scheduler: the system clock stepped (issue 8, faults)', () => {
  it('forward 2 hours: every schedule fires its latest missed tick once, the rest counted, then keeps its rhythm', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:30Z')
    scheduler.start([entry('min', cron('* * * * *'), clock.now()), entry('hourly', cron('0 * * * *'), clock.now()), entry('daily', cron('0 3 * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T10:01:00Z'))
    clock.set(at('2026-05-04T12:01:30Z'))
    clock.runDue()
    const now = '2026-05-04T12:01:30Z'
    expect(fired.slice(1)).toEqual([
      {name: 'hourly', kind: 'fire', tick: '2026-05-04T12:00:00Z', now, coalesced: 1},
      {name: 'min', kind: 'fire', tick: '2026-05-04T12:01:00Z', now, coalesced: 119},
    ])
    clock.advanceTo(at('2026-05-04T12:02:00Z'))
    expect(fired.slice(3)).toEqual([onTime('min', '2026-05-04T12:02:00Z')])
  })

  it('back 1 hour: no tick of the hour lived twice fires again; the schedule resumes after the newest tick handled', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:30Z')
    scheduler.start([entry('min', cron('* * * * *'), clock.now()), entry('hourly', cron('0 * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T11:00:00Z'))
    const before = fired.length
    expect(fired.filter((f) => f.name === 'hourly').map((f) => f.tick)).toEqual(['2026-05-04T11:00:00Z'])
    clock.set(at('2026-05-04T10:00:00Z'))
    clock.runDue()
    clock.advanceTo(at('2026-05-04T11:02:00Z'))
    const again = fired.slice(before)
    // Only ticks after 11:00 (the newest handled): 11:01 and 11:02, once each.
    expect(again.map((f) => `${f.name} ${f.tick}`)).toEqual(['min 2026-05-04T11:01:00Z', 'min 2026-05-04T11:02:00Z'])
    const ticks = fired.map((f) => `${f.name} ${f.tick}`)
    expect(ticks.length).toBe(new Set(ticks).size)
  })
})

describe('Scheduler: set(), stop(), nextFire()', () => {
  it('set() replaces the schedules: dropped units stop, new ones start from their `after`', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('a', cron('*/5 * * * *'), clock.now()), entry('b', cron('*/10 * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T10:07:00Z'))
    scheduler.set([entry('b', cron('*/3 * * * *'), clock.now()), entry('c', cron('*/4 * * * *'), clock.now())])
    expect(clock.pending()).toBe(1)
    clock.advanceTo(at('2026-05-04T10:13:00Z'))
    expect(fired.map((f) => `${f.now} ${f.name}`)).toEqual([
      '2026-05-04T10:05:00Z a',
      '2026-05-04T10:08:00Z c',
      '2026-05-04T10:09:00Z b',
      '2026-05-04T10:12:00Z b',
      '2026-05-04T10:12:00Z c',
    ])
    expect(scheduler.nextFire('a')).toBeUndefined()
    expect(scheduler.nextFire('b')).toBe(at('2026-05-04T10:15:00Z'))
  })

  it('set([]) leaves nothing armed', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('a', cron('* * * * *'), clock.now())])
    scheduler.set([])
    expect(clock.pending()).toBe(0)
    clock.advance(H)
    expect(fired).toEqual([])
  })

  it('stop() disarms the timer and no tick fires afterwards; start() resumes', () => {
    const {clock, fired, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('a', cron('* * * * *'), clock.now())])
    clock.advanceTo(at('2026-05-04T10:01:00Z'))
    scheduler.stop()
    expect(clock.pending()).toBe(0)
    clock.advance(24 * H)
    expect(fired.map((f) => f.tick)).toEqual(['2026-05-04T10:01:00Z'])
    scheduler.start([entry('a', cron('* * * * *'), clock.now())])
    clock.advance(M)
    expect(fired.map((f) => f.now)).toEqual(['2026-05-04T10:01:00Z', '2026-05-05T10:02:00Z'])
  })

  it('stop() from inside onTick ends the schedule', () => {
    const clock = new FakeClock(at('2026-05-04T10:00:00Z'))
    const seen: number[] = []
    const scheduler: Scheduler = new Scheduler(clock, (d) => {
      seen.push(d.tick.at)
      scheduler.stop()
    })
    scheduler.start([entry('a', cron('* * * * *'), clock.now())])
    clock.advance(10 * M)
    expect(seen).toEqual([at('2026-05-04T10:01:00Z')])
    expect(clock.pending()).toBe(0)
  })

  it('nextFire() passes over a dst_skipped tick', () => {
    const {clock, fired, scheduler} = harness('2026-10-25T00:30:00Z') // after the first 02:00
    scheduler.start([entry('b', cron('0 2 * * *', 'Europe/Bratislava'), clock.now())])
    expect(fmt(scheduler.nextFire('b')!)).toBe('2026-10-26T01:00:00Z')
    expect(scheduler.nextFire('nope')).toBeUndefined()
    clock.advanceTo(at('2026-10-25T01:00:00Z'))
    expect(fired).toEqual([onTime('b', '2026-10-25T01:00:00Z', 'dst_skipped')])
    expect(fmt(scheduler.nextFire('b')!)).toBe('2026-10-26T01:00:00Z')
  })

  it('nextFire() is the next tick after the last one fired', () => {
    const {clock, scheduler} = harness('2026-05-04T10:00:00Z')
    scheduler.start([entry('q', cron('*/15 * * * *'), clock.now())])
    expect(fmt(scheduler.nextFire('q')!)).toBe('2026-05-04T10:15:00Z')
    clock.advanceTo(at('2026-05-04T10:15:00Z'))
    expect(fmt(scheduler.nextFire('q')!)).toBe('2026-05-04T10:30:00Z')
  })
})
