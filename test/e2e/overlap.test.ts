import {readFileSync, writeFileSync} from 'node:fs'
import {describe, expect} from 'vitest'
import type {RunRecord} from '../../src/state/run-record.js'
import {type Sandbox, fixture, it, q, unwrap, until} from '../support/sandbox.js'

/**
 * Overlap and queue (SPEC §2 max_concurrent/on_overlap/queue_max, §4.5) through `sched trigger`
 * against a real daemon. Every run is test/fixtures/track.sh: it appends `start|end RUN_ID PID NS`
 * to a shared file and waits until the test creates the release file, so "alive at once" is
 * read from what the processes themselves recorded.
 */

interface Event {
  readonly kind: 'start' | 'end'
  readonly id: string
  readonly pid: number
  readonly ns: bigint
}

async function serve(b: Sandbox, options: {max: number; overlap: string; extra?: string; ignoreTerm?: boolean}): Promise<Sandbox> {
  b.write(`[tasks.t]
run = ${q(`exec '${fixture('track.sh')}'`)}
max_concurrent = ${options.max}
on_overlap = "${options.overlap}"
env = { TRACK = ${q(b.path('track'))}, RELEASE = ${q(b.path('release'))}${options.ignoreTerm ? ', IGNORE_TERM = "1"' : ''} }
${options.extra ?? ''}
`)
  writeFileSync(b.path('track'), '')
  await b.start()
  return b
}

function events(b: Sandbox): Event[] {
  return readFileSync(b.path('track'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, id, pid, ns] = line.split(' ')
      return {kind: kind as Event['kind'], id, pid: Number(pid), ns: BigInt(ns)}
    })
}

/** The most processes alive at once, from the order in which they recorded their start and end. */
function maxAlive(list: readonly Event[]): number {
  let alive = 0
  let max = 0
  for (const e of list) {
    alive += e.kind === 'start' ? 1 : -1
    max = Math.max(max, alive)
  }
  return max
}

/** The most runs whose [started_at, ended_at) intervals overlap, from the records. */
function maxOverlap(runs: readonly RunRecord[]): number {
  const points = runs
    .filter((r) => r.started_at)
    .flatMap((r) => [
      {t: Date.parse(r.started_at!), d: 1},
      {t: r.ended_at ? Date.parse(r.ended_at) : Number.POSITIVE_INFINITY, d: -1},
    ])
    // An end at the same millisecond as a start comes first: the slot was freed, then taken.
    .sort((a, b) => a.t - b.t || a.d - b.d)
  let n = 0
  let max = 0
  for (const p of points) max = Math.max(max, (n += p.d))
  return max
}

const started = (b: Sandbox, n: number) => until(() => events(b).filter((e) => e.kind === 'start').length >= n && true, 5000, `${n} started runs`)

function release(b: Sandbox): void {
  writeFileSync(b.path('release'), '')
}

async function allEnded(b: Sandbox, n: number): Promise<RunRecord[]> {
  return until(() => {
    const runs = b.runs('t')
    return runs.length === n && runs.every((r) => r.status === 'ended') && runs
  }, 5000, `${n} ended runs`)
}

/** A refused trigger: exits 1 naming the reason; returns the id of the run it recorded. */
async function refused(b: Sandbox, reason: string): Promise<string> {
  const res = await b.cli(['trigger', 't'])
  expect(res.code).toBe(1)
  const message = unwrap(res.stderr)
  expect(message).toContain(`of t was not started: ${reason}`)
  const m = /run (\S+) of t was not started/.exec(message)
  expect(m, message).not.toBeNull()
  return m![1]
}

describe('on_overlap = "skip"', () => {
  it('max_concurrent = 1: a second trigger is recorded `skipped`, never started, and the CLI exits 1', async ({box}) => {
    const b = await serve(box, {max: 1, overlap: 'skip'})
    const a = await b.trigger('t')
    await started(b, 1)
    const skipped = await refused(b, '1 run already active (max_concurrent = 1, on_overlap = "skip")')
    expect(b.run('t', skipped)).toMatchObject({
      status: 'ended',
      end_reason: 'skipped',
      started_at: null,
      pid: null,
      exit_code: null,
      duration_ms: 0,
      message: '1 run already active (max_concurrent = 1, on_overlap = "skip")',
    })
    release(b)
    const runs = await allEnded(b, 2)
    expect(runs.map((r) => [r.id, r.end_reason])).toEqual([
      [a, 'success'],
      [skipped, 'skipped'],
    ])
    expect(events(b).map((e) => e.id)).toEqual([a, a])
  })

  it('max_concurrent = 2: two run side by side, the third is skipped', async ({box}) => {
    const b = await serve(box, {max: 2, overlap: 'skip'})
    const [a, c] = await Promise.all([b.trigger('t'), b.trigger('t')])
    await started(b, 2)
    const skipped = await refused(b, '2 runs already active (max_concurrent = 2, on_overlap = "skip")')
    release(b)
    const runs = await allEnded(b, 3)
    expect(Object.fromEntries(runs.map((r) => [r.id, r.end_reason]))).toEqual({[a]: 'success', [c]: 'success', [skipped]: 'skipped'})
    expect(maxAlive(events(b))).toBe(2)
    expect(new Set(events(b).map((e) => e.id))).toEqual(new Set([a, c]))
  })
})

describe('on_overlap = "queue"', () => {
  it('max_concurrent = 1: queued runs wait as `pending` and run one after another in FIFO order', async ({box}) => {
    const b = await serve(box, {max: 1, overlap: 'queue'})
    const first = await b.trigger('t')
    await started(b, 1)
    const queued = await Promise.all([b.trigger('t'), b.trigger('t'), b.trigger('t')])
    for (const id of queued) expect(b.run('t', id)).toMatchObject({status: 'pending', started_at: null, pid: null})
    release(b)
    const runs = await allEnded(b, 4)
    expect(runs.every((r) => r.end_reason === 'success')).toBe(true)
    const created = runs.map((r) => r.id)
    expect(created[0]).toBe(first)
    expect(new Set(created)).toEqual(new Set([first, ...queued]))
    // Started in creation order, each after the previous one ended.
    const byStart = [...runs].sort((x, y) => Date.parse(x.started_at!) - Date.parse(y.started_at!) || (x.id < y.id ? -1 : 1))
    expect(byStart.map((r) => r.id)).toEqual(created)
    for (let k = 1; k < runs.length; k++) expect(Date.parse(runs[k].started_at!)).toBeGreaterThanOrEqual(Date.parse(runs[k - 1].ended_at!))
    const ev = events(b)
    expect(ev.filter((e) => e.kind === 'start').map((e) => e.id)).toEqual(created)
    expect(maxAlive(ev)).toBe(1)
  })

  it('max_concurrent = 2: never more than two alive, the queue drains in FIFO order', async ({box}) => {
    const b = await serve(box, {max: 2, overlap: 'queue'})
    await Promise.all([b.trigger('t'), b.trigger('t')])
    await started(b, 2)
    const queued = await Promise.all([b.trigger('t'), b.trigger('t'), b.trigger('t')])
    expect(b.runs('t').filter((r) => r.status === 'pending').map((r) => r.id)).toEqual([...queued].sort())
    release(b)
    const runs = await allEnded(b, 5)
    expect(runs.every((r) => r.end_reason === 'success')).toBe(true)
    const ev = events(b)
    expect(maxAlive(ev)).toBe(2)
    expect(maxOverlap(runs)).toBeLessThanOrEqual(2)
    // Two runs may start within a millisecond of each other, and their processes then log in
    // either order: the records' started_at, set as the daemon takes each from the queue, decide.
    const startedAt = (id: string) => Date.parse(runs.find((r) => r.id === id)!.started_at!)
    const fifo = [...queued].sort()
    for (let k = 1; k < fifo.length; k++) expect(startedAt(fifo[k])).toBeGreaterThanOrEqual(startedAt(fifo[k - 1]))
  })

  it('queue_max = 1: one run waits, the next is recorded `queue_full` and the CLI exits 1', async ({box}) => {
    const b = await serve(box, {max: 1, overlap: 'queue', extra: 'queue_max = 1'})
    const a = await b.trigger('t')
    await started(b, 1)
    const waiting = await b.trigger('t')
    const full = await refused(b, 'queue full (1 waiting, queue_max = 1)')
    expect(b.run('t', full)).toMatchObject({status: 'ended', end_reason: 'queue_full', started_at: null, pid: null, message: 'queue full (1 waiting, queue_max = 1)'})
    expect(b.run('t', waiting)).toMatchObject({status: 'pending'})
    release(b)
    const runs = await allEnded(b, 3)
    expect(runs.map((r) => [r.id, r.end_reason])).toEqual([
      [a, 'success'],
      [waiting, 'success'],
      [full, 'queue_full'],
    ])
    expect(events(b).filter((e) => e.kind === 'start').map((e) => e.id)).toEqual([a, waiting])
  })
})

describe('on_overlap = "terminate"', () => {
  it('max_concurrent = 1: stops the active run (`stopped`), then starts the new one after it exited', async ({box}) => {
    const b = await serve(box, {max: 1, overlap: 'terminate'})
    const a = await b.trigger('t')
    await started(b, 1)
    const res = await b.cli(['trigger', 't'])
    expect(res.code).toBe(0)
    const c = /(?:queued|started) run (\S+) of t/.exec(res.stdout)![1]
    await started(b, 2)
    const victim = await b.ended('t', a)
    // The fixture's TERM trap records its end and exits 143.
    expect(victim).toMatchObject({end_reason: 'stopped', exit_code: 143, signal: null, message: 'terminated by a newer run (on_overlap = "terminate")'})
    expect(await b.logText('t', a)).toContain('[sched] terminated to make room for a newer run (on_overlap = "terminate"); sending SIGTERM')
    release(b)
    const newer = await b.ended('t', c)
    expect(newer.end_reason).toBe('success')
    expect(Date.parse(newer.started_at!)).toBeGreaterThanOrEqual(Date.parse(victim.ended_at!))
    const ev = events(b)
    expect(ev.map((e) => `${e.kind} ${e.id}`)).toEqual([`start ${a}`, `end ${a}`, `start ${c}`, `end ${c}`])
    expect(maxAlive(ev)).toBe(1)
  })

  it('max_concurrent = 2: stops the oldest; a victim that ignores SIGTERM holds the slot until SIGKILL', async ({box}) => {
    const b = await serve(box, {max: 2, overlap: 'terminate', extra: 'graceful_stop = "1s"', ignoreTerm: true})
    const oldest = await b.trigger('t')
    await started(b, 1)
    const middle = await b.trigger('t')
    await started(b, 2)
    const newest = await b.trigger('t')
    const victim = await b.ended('t', oldest)
    expect(victim).toMatchObject({end_reason: 'stopped', signal: 'SIGKILL', exit_code: null})
    const waited = await until(() => b.run('t', newest)?.started_at ?? undefined, 5000, 'the newest run to start')
    // The newcomer waited out the ladder: it started only after the victim was killed.
    expect(Date.parse(waited)).toBeGreaterThanOrEqual(Date.parse(victim.ended_at!))
    expect(Date.parse(victim.ended_at!) - Date.parse(b.run('t', newest)!.created_at)).toBeGreaterThanOrEqual(900)
    expect(b.run('t', middle)).toMatchObject({status: 'running'})
    release(b)
    const runs = await allEnded(b, 3)
    expect(Object.fromEntries(runs.map((r) => [r.id, r.end_reason]))).toEqual({[oldest]: 'stopped', [middle]: 'success', [newest]: 'success'})
    expect(maxOverlap(runs)).toBe(2)
  })
})
