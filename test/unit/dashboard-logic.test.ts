import {describe, expect, it} from 'vitest'
import {recentRuns} from '../../src/api/overview.js'
import type {RunEntry} from '../../src/state/runs.js'
import {durationBars} from '../../web/src/chart.js'
import {isDefault} from '../../web/src/config-defaults.js'
import {groupUnits, matchesFilter} from '../../web/src/filter.js'
import {formatRelative} from '../../web/src/format.js'
import {firstErrorLine, searchLines} from '../../web/src/log-search.js'
import {parsePath} from '../../web/src/router.js'
import {scheduleInWords} from '../../web/src/schedule-words.js'
import {offsetsOf, rangeByOffsets, scrollTopFor, visibleRange} from '../../web/src/virtual.js'

/** The dashboard's pure decisions, and the overview's strip collector. */

describe('visibleRange: the rows of a long log that are in the page', () => {
  const cases: [string, [number, number, number, number, number], {start: number; end: number}][] = [
    ['empty list', [0, 600, 20, 0, 30], {start: 0, end: 0}],
    ['top of 50,000 lines', [0, 600, 20, 50_000, 30], {start: 0, end: 60}],
    ['middle', [200_000, 600, 20, 50_000, 30], {start: 9970, end: 10_060}],
    ['bottom is clamped to the count', [999_400, 600, 20, 50_000, 30], {start: 49_940, end: 50_000}],
    ['a short list shows all of it', [0, 600, 20, 10, 30], {start: 0, end: 10}],
    ['negative scroll (overscroll bounce) is the top', [-50, 600, 20, 100, 0], {start: 0, end: 30}],
    ['a partly visible last row is included', [10, 600, 20, 1000, 0], {start: 0, end: 31}],
  ]
  for (const [what, args, expected] of cases) it(what, () => expect(visibleRange(...args)).toEqual(expected))

  it('scrollTopFor leaves context rows above the target', () => {
    expect(scrollTopFor(100, 20, 5)).toBe(1900)
    expect(scrollTopFor(2, 20, 5)).toBe(0)
  })
})

describe('rangeByOffsets: the overview rows (group heads and units) near the viewport', () => {
  // A group head (30) and three units (60) each, twice: rows start at 0,30,90,150,210,240,300,360.
  const offsets = offsetsOf([30, 60, 60, 60, 30, 60, 60, 60])
  it('offsets are the running sum, the last entry the total', () => {
    expect(offsets).toEqual([0, 30, 90, 150, 210, 240, 300, 360, 420])
  })
  const cases: [string, [number, number, number], {start: number; end: number}][] = [
    ['the top', [0, 100, 0], {start: 0, end: 3}],
    ['a window inside one row', [100, 10, 0], {start: 2, end: 3}],
    ['a window ending on a row boundary', [0, 90, 0], {start: 0, end: 2}],
    ['overscan on both sides', [210, 30, 60], {start: 3, end: 6}],
    ['past the end', [1000, 100, 0], {start: 8, end: 8}],
    ['above the start (the table lower in the page)', [-500, 600, 0], {start: 0, end: 3}],
    ['all of it', [0, 10_000, 0], {start: 0, end: 8}],
  ]
  for (const [what, [top, height, overscan], expected] of cases) it(what, () => expect(rangeByOffsets(offsets, top, height, overscan)).toEqual(expected))
  it('no rows', () => expect(rangeByOffsets([0], 0, 100, 10)).toEqual({start: 0, end: 0}))
})

describe('durationBars', () => {
  it('oldest left, scaled to the longest, failures marked, never-started runs left out', () => {
    const runs = [
      {id: 'c', duration_ms: 50, failed: true},
      {id: 'b', duration_ms: null, failed: false},
      {id: 'a', duration_ms: 100, failed: false},
    ]
    const {bars, maxMs} = durationBars(runs, 200, 100, 0, 1000)
    expect(maxMs).toBe(100)
    expect(bars).toEqual([
      {id: 'a', x: 0, width: 100, height: 100, failed: false, durationMs: 100},
      {id: 'c', x: 100, width: 100, height: 50, failed: true, durationMs: 50},
    ])
  })

  it('bars are at most maxBar wide', () => {
    expect(durationBars([{id: 'a', duration_ms: 5, failed: false}], 600, 100).bars[0].width).toBe(24)
  })

  it('zero-length runs still show; no runs, no bars', () => {
    expect(durationBars([{id: 'a', duration_ms: 0, failed: false}], 10, 10).bars[0].height).toBe(1)
    expect(durationBars([], 10, 10)).toEqual({bars: [], maxMs: 0})
  })
})

describe('overview filter', () => {
  const unit = {name: 'Backup-DB', group: 'db', status: 'idle', lastEndReason: 'timeout' as string | null}
  const none = {text: '', group: '', state: ''}
  const cases: [string, Partial<typeof none>, boolean][] = [
    ['no filter', {}, true],
    ['name part, any case', {text: 'backup'}, true],
    ['another name', {text: 'web'}, false],
    ['its group', {group: 'db'}, true],
    ['another group', {group: 'web'}, false],
    ['"-" is units without a group', {group: '-'}, false],
    ['its status', {state: 'idle'}, true],
    ['another status', {state: 'running'}, false],
    ['failing: its last run timed out', {state: 'failing'}, true],
  ]
  for (const [what, f, expected] of cases) it(what, () => expect(matchesFilter(unit, {...none, ...f})).toBe(expected))

  it('failing covers FATAL services and not clean endings', () => {
    expect(matchesFilter({...unit, status: 'fatal', lastEndReason: null}, {...none, state: 'failing'})).toBe(true)
    expect(matchesFilter({...unit, lastEndReason: 'skipped'}, {...none, state: 'failing'})).toBe(false)
    expect(matchesFilter({...unit, group: ''}, {...none, group: '-'})).toBe(true)
  })

  it('groups sort by name, the ungrouped last, members in order', () => {
    const grouped = groupUnits([{n: 1, group: ''}, {n: 2, group: 'web'}, {n: 3, group: 'db'}, {n: 4, group: 'web'}])
    expect(grouped.map(([g, m]) => [g, m.map((u) => u.n)])).toEqual([
      ['db', [3]],
      ['web', [2, 4]],
      ['', [1]],
    ])
  })
})

describe('log search', () => {
  const lines = [
    {stream: 'stdout', text: 'starting'},
    {stream: 'stdout', text: 'ERROR: disk full'},
    {stream: 'stderr', text: 'warning: slow'},
  ]
  it('finds lines by text, any case', () => {
    expect(searchLines(lines, 'error')).toEqual([1])
    expect(searchLines(lines, 'S')).toEqual([0, 1, 2])
    expect(searchLines(lines, '')).toEqual([])
  })

  it('the first error is the first stderr line, else the first that says error', () => {
    expect(firstErrorLine(lines)).toBe(2)
    expect(firstErrorLine(lines.slice(0, 2))).toBe(1)
    expect(firstErrorLine([{stream: 'stdout', text: 'errors=0 (terror)'}])).toBeUndefined()
  })
})

describe('dashboard URLs', () => {
  it('every page has a path; names are decoded', () => {
    expect(parsePath('/')).toEqual({page: 'overview'})
    expect(parsePath('/tasks/db.backup')).toEqual({page: 'unit', name: 'db.backup'})
    expect(parsePath('/tasks/a%3Ab')).toEqual({page: 'unit', name: 'a:b'})
    expect(parsePath('/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV')).toEqual({page: 'run', id: '01ARZ3NDEKTSV4RRFFQ69G5FAV'})
    expect(parsePath('/daemon')).toEqual({page: 'daemon'})
    expect(parsePath('/notifications')).toEqual({page: 'notifications'})
    expect(parsePath('/tasks/a/b')).toEqual({page: 'missing', path: '/tasks/a/b'})
    expect(parsePath('/tasks/%E0%A4%A')).toEqual({page: 'missing', path: '/tasks/%E0%A4%A'})
  })
})

describe('words', () => {
  it('schedules in words, shortcuts and @every included', () => {
    expect(scheduleInWords('30 2 * * *')).toBe('At 02:30')
    expect(scheduleInWords('@daily')).toBe('At 00:00')
    expect(scheduleInWords('@every 90s')).toBe('Every 90s')
    expect(scheduleInWords('')).toBe('manual only')
  })

  it('relative times to two units', () => {
    const now = 1_000_000_000_000
    expect(formatRelative(now + 59_400, now)).toBe('in 59s')
    expect(formatRelative(now + (2 * 86_400 + 14 * 3600 + 30 * 60 + 47) * 1000, now)).toBe('in 2d15h')
    expect(formatRelative(now - (9 * 3600 + 47 * 60 + 5) * 1000, now)).toBe('9h47m ago')
  })

  it('a field is marked default when it holds the built-in default of its kind', () => {
    expect(isDefault('restart', 'never', 'task')).toBe(true)
    expect(isDefault('restart', 'never', 'service')).toBe(false)
    expect(isDefault('exit_codes', [0], 'task')).toBe(true)
    expect(isDefault('exit_codes', [0, 1], 'task')).toBe(false)
    expect(isDefault('cron', '', 'task')).toBe(true)
    expect(isDefault('name', 'x', 'task')).toBe(false)
  })
})

describe('recentRuns: the overview strips', () => {
  const entry = (id: string, unit: string, state: RunEntry['state'] = 'success'): RunEntry => ({id, unit, triggered_by: 'cron', state, file: ''})
  it('takes each unit its newest runs and stops once every strip is full', () => {
    let read = 0
    const entries = [entry('01J00000000000000000000004', 'a'), entry('01J00000000000000000000003', 'b', 'failed'), entry('01J00000000000000000000002', 'a', 'active'), entry('01J00000000000000000000001', 'b')]
    function* walk() {
      for (const e of entries) {
        read++
        yield e
      }
    }
    const out = recentRuns(walk(), ['a', 'b', 'c'], 1)
    expect(out.get('a')!.map((r) => r.id)).toEqual(['01J00000000000000000000004'])
    expect(out.get('b')!.map((r) => r.state)).toEqual(['failed'])
    expect(out.get('c')).toEqual([])
    // 'c' has no run, so the walk goes on to the end; with only a and b it stops after two.
    expect(read).toBe(4)
    read = 0
    recentRuns(walk(), ['a', 'b'], 1)
    expect(read).toBe(2)
    expect(recentRuns(walk(), ['a'], 2).get('a')![1]).toMatchObject({state: 'active', triggered_by: 'cron', created_at: expect.stringMatching(/^\d{4}-/)})
  })
})
