import {describe, expect, it} from 'vitest'
import {loadConfigText} from '../../src/config/load.js'
import {createLogger} from '../../src/core/logger.js'
import type {Unit} from '../../src/core/types.js'
import {RunOwner} from '../../src/engine/run-owner.js'
import {DurableRecords} from '../../src/state/durable-records.js'
import {StateLayout} from '../../src/state/layout.js'
import {FileNotWritten} from '../../src/state/record-journal.js'
import type {RunRecord} from '../../src/state/run-record.js'
import {FakeClock} from '../support/fake-clock.js'
import {FakeLauncher, MemoryRecords, advance, settle} from '../support/fake-launcher.js'

/**
 * A full disk under the run owner (issue 8, defect 1): a run's end is never lost — kept in
 * memory, answered from there, retried with backoff on the fake clock and written as soon as the
 * disk takes it; a trigger whose first record cannot be written is refused, nothing half-made;
 * the log says once that the disk is full and once that it recovered.
 */

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0)
const ENOSPC = Object.assign(new Error("ENOSPC: no space left on device, open '/s/runs/a/x.tmp'"), {code: 'ENOSPC'})

function harness(toml = '[tasks.a]\nrun = "x"\n[tasks.q]\nrun = "x"\non_overlap = "queue"\n') {
  const loaded = loadConfigText(toml, '/tmp/sched-durable-test/sched.toml')
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'))
  const units = new Map(loaded.config.units.map((u) => [u.name, u as Unit]))
  const clock = new FakeClock(T0)
  const launcher = new FakeLauncher(clock)
  launcher.behaviour = () => ({exitAfterMs: 1000, exitCode: 0})
  const disk = new MemoryRecords(clock)
  const log: string[] = []
  const logger = createLogger('json', (line) => log.push(JSON.parse(line).event))
  const diskFull: string[] = []
  const records = new DurableRecords(disk, {clock, logger, firstRetryMs: 500, maxRetryMs: 4000, onDiskFull: (error) => diskFull.push(error)})
  const owner = new RunOwner({
    clock,
    logger,
    records,
    launcher,
    layout: new StateLayout('/nonexistent'),
    unit: (name) => units.get(name),
    secrets: () => ({}),
    shutdownTimeout: () => 10e9,
  })
  launcher.attach(owner)
  const events: string[] = []
  for (const e of ['run.created', 'run.ended', 'run.discarded']) owner.on(e, (r: RunRecord) => events.push(`${e}:${r.id}`))
  return {clock, launcher, disk, log, diskFull, records, owner, events, advance: (ms: number) => advance(clock, ms)}
}

describe('a full disk under the run owner', () => {
  it('keeps an ended run in memory, answers it, retries with backoff and writes it when space returns', async () => {
    const h = harness()
    const t = await h.owner.trigger({unit: 'a', source: 'api'})
    if (!t.ok) throw new Error(t.message)
    await settle()
    h.disk.refuse = ENOSPC
    await h.advance(1000)
    // Ended in memory, not on disk: the owner still holds it and answers its true end.
    expect(h.owner.get(t.run.id)?.record).toMatchObject({status: 'ended', end_reason: 'success'})
    expect(h.disk.history(t.run.id).at(-1)).toBe('running')
    expect(h.records.health()).toMatchObject({failing: true, kept: 1})
    // Retries back off (500, 1000, 2000, 4000, 4000 ms…); the log says it once.
    await h.advance(20_000)
    expect(h.records.health().failures).toBeGreaterThanOrEqual(4)
    expect(h.records.health().failures).toBeLessThan(10)
    expect(h.log.filter((e) => e === 'disk.full')).toHaveLength(1)
    // …and tells the notifications once (the disk.full event).
    expect(h.diskFull).toEqual([expect.stringMatching(/no space left on device/)])
    expect(h.log).not.toContain('run.write_failed')

    h.disk.refuse = undefined
    await h.advance(4000)
    expect(h.disk.history(t.run.id).at(-1)).toBe('ended:success')
    expect(h.owner.get(t.run.id)).toBeUndefined()
    expect(h.records.health()).toEqual({failing: false, kept: 0, failures: h.records.health().failures})
    expect(h.log.filter((e) => e === 'disk.recovered')).toHaveLength(1)
  })

  it('refuses a trigger whose first record cannot be written: no run, no process, no trace', async () => {
    const h = harness()
    h.disk.refuse = ENOSPC
    const first = await h.owner.trigger({unit: 'a', source: 'api'})
    expect(first).toMatchObject({ok: false, refusal: 'storage'})
    expect(first.ok ? '' : first.message).toMatch(/no space left on device \(ENOSPC\)/)
    const second = await h.owner.trigger({unit: 'a', source: 'cli'})
    expect(second).toMatchObject({ok: false, refusal: 'storage'})
    await h.advance(5000)
    expect(h.launcher.processes).toHaveLength(0)
    expect(h.disk.writes).toHaveLength(0)
    expect(h.events.filter((e) => e.startsWith('run.ended'))).toEqual([])
    expect(h.events.filter((e) => e.startsWith('run.discarded'))).toHaveLength(2)
    expect(h.records.health()).toMatchObject({failing: true, kept: 0})
    expect(h.log.filter((e) => e === 'disk.full')).toHaveLength(1)
    // The disk takes writes again: the next trigger is recorded and says so.
    h.disk.refuse = undefined
    expect(await h.owner.trigger({unit: 'a', source: 'api'})).toMatchObject({ok: true, outcome: 'started'})
    expect(h.records.health().failing).toBe(false)
    expect(h.log.filter((e) => e === 'disk.recovered')).toHaveLength(1)
  })

  it('starts a run whose record is durable in the journal though its own file was refused, and writes the file later', async () => {
    const h = harness()
    h.disk.refuse = new FileNotWritten(ENOSPC) as unknown as NodeJS.ErrnoException
    const t = await h.owner.trigger({unit: 'a', source: 'api'})
    // The next boot would write its file from the journal: refusing it would be a lie.
    expect(t).toMatchObject({ok: true, outcome: 'started'})
    expect(h.records.health()).toMatchObject({failing: true, kept: 1})
    await h.advance(1000)
    if (!t.ok) return
    expect(h.owner.get(t.run.id)?.record).toMatchObject({end_reason: 'success'})
    h.disk.refuse = undefined
    await h.advance(10_000)
    expect(h.disk.history(t.run.id).at(-1)).toBe('ended:success')
    expect(h.owner.get(t.run.id)).toBeUndefined()
  })

  it('refuses a trigger that would queue when its pending record cannot be written', async () => {
    const h = harness()
    const running = await h.owner.trigger({unit: 'q', source: 'api'})
    expect(running).toMatchObject({ok: true, outcome: 'started'})
    await settle()
    h.disk.refuse = ENOSPC
    const queued = await h.owner.trigger({unit: 'q', source: 'api'})
    expect(queued).toMatchObject({ok: false, refusal: 'storage'})
    expect(h.owner.occupancy('q')).toEqual({active: 1, queued: 0})
  })

  it('refuses a trigger that would be recorded skipped when that record cannot be written', async () => {
    const h = harness('[tasks.s]\nrun = "x"\non_overlap = "skip"\n')
    expect(await h.owner.trigger({unit: 's', source: 'api'})).toMatchObject({ok: true, outcome: 'started'})
    await settle()
    h.disk.refuse = ENOSPC
    expect(await h.owner.trigger({unit: 's', source: 'api'})).toMatchObject({ok: false, refusal: 'storage'})
    expect(h.events.filter((e) => e.startsWith('run.ended'))).toEqual([])
  })

  it('a queued run whose running record is refused is never launched and ends start_failed, written later', async () => {
    const h = harness()
    await h.owner.trigger({unit: 'q', source: 'api'})
    const queued = await h.owner.trigger({unit: 'q', source: 'api'})
    if (!queued.ok) throw new Error(queued.message)
    await settle()
    h.disk.refuse = ENOSPC
    await h.advance(1000)
    expect(h.launcher.processes).toHaveLength(1)
    expect(h.owner.get(queued.run.id)?.record).toMatchObject({status: 'ended', end_reason: 'start_failed'})
    expect(h.owner.get(queued.run.id)?.record.message).toMatch(/could not record the start.*ENOSPC/)
    h.disk.refuse = undefined
    await h.advance(10_000)
    expect(h.disk.history(queued.run.id)).toEqual(['pending', 'ended:start_failed'])
  })

  it('at shutdown gives up what the disk still refuses, names it in the log, and does not hang', async () => {
    const h = harness()
    const t = await h.owner.trigger({unit: 'a', source: 'api'})
    if (!t.ok) throw new Error(t.message)
    await settle()
    h.disk.refuse = ENOSPC
    await h.advance(1000)
    expect(await h.records.close()).toEqual([t.run.id])
    await h.owner.flush()
    expect(h.log).toContain('state.unwritten')
  })
})
