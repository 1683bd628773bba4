import {describe, expect} from 'vitest'
import type {RunRecord} from '../../src/state/run-record.js'
import {type Sandbox, it, sleep, until} from '../support/sandbox.js'

/**
 * Missed ticks and start-up runs end to end (SPEC §4.3, §2 run_on_start): a daemon with a
 * per-second cron is stopped, time passes, and the next boot records what was missed.
 */

const byReason = (runs: readonly RunRecord[], reason: string) => runs.filter((r) => r.end_reason === reason)
const bySource = (runs: readonly RunRecord[], source: string) => runs.filter((r) => r.triggered_by === source)
const at = (iso: string | null) => Date.parse(iso!)

/** The catch-up anchor (SPEC §4.3): the latest scheduled_at of the task's cron/catch-up runs. */
function anchorOf(b: Sandbox, task: string): number {
  return Math.max(...b.runs(task).map((r) => (r.scheduled_at ? at(r.scheduled_at) : 0)))
}

/** Waits for `n` ended cron runs and, if given, the time `notBefore`; stops the daemon (exit 0); returns the anchor. */
async function cronRunsThenStop(b: Sandbox, task: string, n: number, notBefore = 0): Promise<number> {
  await until(() => bySource(b.runs(task), 'cron').filter((r) => r.status === 'ended').length >= n && Date.now() >= notBefore, 8000, `${n} cron runs`)
  expect(await b.stop('SIGTERM')).toBe(0)
  return anchorOf(b, task)
}

function missedCount(run: RunRecord): number {
  const m = /^(\d+) ticks? missed while the daemon was down$/.exec(run.message ?? '')
  expect(m, `message of the missed record: ${run.message}`).not.toBeNull()
  return Number(m![1])
}

describe.concurrent('catch-up after downtime', () => {
  it('catch_up = "latest": one `missed` record counting the ticks and one catch_up run; a second restart adds nothing', async ({box}) => {
    // Every second, but only through a window of six seconds starting soon: the daemon runs the
    // first tick or two and is stopped mid-window, so the rest is missed; it comes back after the
    // window, so the restart right after has, deterministically, no tick of its own to miss.
    const first = Math.ceil(Date.now() / 1000) + 2
    const seconds = Array.from({length: 6}, (_, i) => (first + i) % 60)
    const lastTick = (first + 5) * 1000
    const b = box.with(`[tasks.tick]\nrun = "true"\ncron = "${seconds.join(',')} * * * * *"\ncatch_up = "latest"\n`)
    await b.start()
    const anchor = await cronRunsThenStop(b, 'tick', 1, (first + 1) * 1000 + 500)
    expect(anchor).toBeLessThan(lastTick)
    await until(() => Date.now() > lastTick + 300, 10_000, 'the window to pass')

    await b.start()
    const runs = await until(() => {
      const all = b.runs('tick')
      return all.every((r) => r.status === 'ended') && bySource(all, 'catch_up').length > 0 && all
    }, 5000, 'the catch-up run to end')
    const missed = byReason(runs, 'missed')
    expect(missed).toHaveLength(1)
    expect(missed[0]).toMatchObject({status: 'ended', triggered_by: 'cron', started_at: null, pid: null, scheduled_at: new Date(lastTick).toISOString()})
    // Every tick after the anchor up to the latest missed one, counted.
    expect(missedCount(missed[0])).toBe((lastTick - anchor) / 1000)
    const catchUp = bySource(runs, 'catch_up')
    expect(catchUp).toHaveLength(1)
    expect(catchUp[0]).toMatchObject({end_reason: 'success', exit_code: 0, scheduled_at: missed[0].scheduled_at})

    expect(await b.stop('SIGTERM')).toBe(0)
    await b.start()
    await sleep(300)
    const again = b.runs('tick')
    expect(byReason(again, 'missed')).toEqual(missed)
    expect(bySource(again, 'catch_up').map((r) => r.id)).toEqual(catchUp.map((r) => r.id))
    expect(again).toHaveLength(runs.length)
  })

  it('cron "* * * * * *": the missed count covers exactly the ticks after the last handled one; a quick restart never counts a gap twice', async ({box}) => {
    const b = box.with('[tasks.tick]\nrun = "true"\ncron = "* * * * * *"\ncatch_up = "latest"\n')
    await b.start()
    const anchor = await cronRunsThenStop(b, 'tick', 2)
    await sleep(3000)
    await b.start()
    const missed = await until(() => byReason(b.runs('tick'), 'missed')[0], 2000, 'the missed record')
    const n = missedCount(missed)
    expect(n).toBe((at(missed.scheduled_at) - anchor) / 1000)
    expect(n).toBeGreaterThanOrEqual(2)
    const catchUp = await until(() => bySource(b.runs('tick'), 'catch_up').find((r) => r.status === 'ended'), 3000, 'the catch-up run')
    expect(catchUp).toMatchObject({end_reason: 'success', scheduled_at: missed.scheduled_at})

    // A restart right away may miss a tick or two of its own (one passes every second), but
    // counts from the last tick the previous daemon handled, never from the old anchor.
    expect(await b.stop('SIGTERM')).toBe(0)
    const anchor2 = anchorOf(b, 'tick')
    await b.start()
    await sleep(300)
    const records = byReason(b.runs('tick'), 'missed')
    expect(records[0]).toEqual(missed)
    expect(records.length).toBeLessThanOrEqual(2)
    for (const later of records.slice(1)) {
      expect(missedCount(later)).toBe((at(later.scheduled_at) - anchor2) / 1000)
    }
    expect(bySource(b.runs('tick'), 'catch_up')).toHaveLength(records.length)
  })

  it('a tick whose run a killed daemon had started is not started again, though its book had not been written yet', async ({box}) => {
    const b = box.with('[tasks.tick]\ncron = "* * * * * *"\nrun = "sleep 30"\ncatch_up = "all"\n')
    await b.start()
    const cut = await until(() => b.runs('tick').find((r) => r.status === 'running'), 10_000, 'a tick to run')
    // Within the seconds a book's last_tick may wait: the anchor is the cut run's own record,
    // read before recovery renames it `crashed`.
    await b.stop('SIGKILL')
    await b.start()
    // The boot's catch-up is done once the next run (a queued tick or a catch-up one) is going.
    await until(() => b.runs('tick').some((r) => r.status === 'running'), 10_000, 'the next run to start')
    const started = b.runs('tick').filter((r) => r.scheduled_at === cut.scheduled_at && r.started_at !== null)
    expect(started.map((r) => r.triggered_by)).toEqual(['cron'])
  })

  it('catch_up = "skip": a `missed` record, no catch-up run', async ({box}) => {
    const b = box.with('[tasks.tick]\nrun = "true"\ncron = "* * * * * *"\ncatch_up = "skip"\n')
    await b.start()
    const anchor = await cronRunsThenStop(b, 'tick', 1)
    await sleep(2500)
    await b.start()
    const missed = await until(() => byReason(b.runs('tick'), 'missed')[0], 2000, 'the missed record')
    expect(missedCount(missed)).toBe((at(missed.scheduled_at) - anchor) / 1000)
    expect(missedCount(missed)).toBeGreaterThanOrEqual(2)
    // Live ticks go on; none of them is a catch-up.
    await until(() => bySource(b.runs('tick'), 'cron').some((r) => at(r.created_at) > at(missed.created_at)), 3000, 'a live tick after the boot')
    expect(bySource(b.runs('tick'), 'catch_up')).toEqual([])
  })
})

describe.concurrent('run_on_start', () => {
  it('starts a `startup` run on each boot', async ({box}) => {
    const b = box.with('[tasks.boot]\nrun = "echo booted"\nrun_on_start = true\n')
    for (let boot = 1; boot <= 2; boot++) {
      await b.start()
      await until(() => b.runs('boot').filter((r) => r.status === 'ended').length === boot, 5000, `startup run ${boot}`)
      expect(await b.stop('SIGTERM')).toBe(0)
    }
    const runs = b.runs('boot')
    expect(runs.map((r) => [r.triggered_by, r.end_reason])).toEqual([
      ['startup', 'success'],
      ['startup', 'success'],
    ])
    expect(await b.logText('boot', runs[1].id)).toBe('booted')
  })

  it('does not start a run on reload (SIGHUP), and a reload does not catch up', async ({box}) => {
    const b = box.with('[tasks.boot]\nrun = "echo booted"\nrun_on_start = true\n[tasks.tick]\nrun = "true"\ncron = "0 0 1 1 *"\n')
    const daemon = await b.start()
    await until(() => b.runs('boot').filter((r) => r.status === 'ended').length === 1, 5000, 'the startup run')
    b.write('[tasks.boot]\nrun = "echo booted again"\nrun_on_start = true\n[tasks.tick]\nrun = "true"\ncron = "0 0 1 1 *"\n[tasks.added]\nrun = "true"\nrun_on_start = true\n')
    daemon.child.kill('SIGHUP')
    const served = async () => (await (await fetch(`${daemon.url}/api/tasks`, {headers: {authorization: `Bearer ${daemon.token}`}})).json()) as {name: string}[]
    await until(async () => (await served()).some((t) => t.name === 'added'), 5000, 'the reload')
    await sleep(500)
    expect(daemon.child.exitCode).toBeNull()
    expect(b.runs('boot')).toHaveLength(1)
    expect(b.runs('added')).toEqual([])
    expect(b.runs('tick')).toEqual([])
  })
})
