import {describe, expect} from 'vitest'
import type {RunRecord} from '../../src/state/run-record.js'
import {type Sandbox, alive, it, q, sleep, until} from '../support/sandbox.js'

/**
 * Services against a real daemon and real processes (SPEC §2 restart, restart_delay,
 * restart_backoff, healthy_after, start_retries, instances, autostart, depends_on, api_trigger;
 * §3 start_failed; §7 boot, shutdown and crash recovery; §9 stop/start/restart). Timing bounds
 * are loose: the exact delays are pinned with a fake clock in test/unit/engine-supervisor.test.ts.
 */

/** A sandbox with the config (text, or made from the sandbox), its daemon started. */
async function serve(b: Sandbox, toml: string | ((b: Sandbox) => string)): Promise<Sandbox> {
  b.write(typeof toml === 'string' ? toml : toml(b))
  await b.start()
  return b
}

/** A service that stays up until stopped: `sleep` is the run's main process. */
const FOREVER = `run = ${q('echo "instance=$SCHED_INSTANCE"; exec sleep 300')}`

const ms = (iso: string | null): number => Date.parse(iso!)

/** The runs of a service that are running with a pid (the record is rewritten with it just after the spawn). */
function running(b: Sandbox, name: string): RunRecord[] {
  return b.runs(name).filter((r) => r.status === 'running' && r.pid !== null)
}

/** Waits until exactly `n` runs of the service are running, and returns them sorted by instance. */
async function upInstances(b: Sandbox, name: string, n: number, timeoutMs = 5000): Promise<RunRecord[]> {
  const runs = await until(() => {
    const r = running(b, name)
    return r.length === n && r
  }, timeoutMs, `${n} running instances of ${name}`)
  for (const r of runs) b.pids.add(r.pid!)
  return runs.sort((x, y) => x.instance_index! - y.instance_index!)
}

async function api(b: Sandbox, method: 'GET' | 'POST', path: string): Promise<{status: number; body: any}> {
  const res = await fetch(b.daemon!.url + path, {method, headers: {authorization: `Bearer ${b.daemon!.token}`}})
  const text = await res.text()
  return {status: res.status, body: text ? JSON.parse(text) : undefined}
}

async function serviceState(b: Sandbox, name: string): Promise<{status: string; instances: {index: number; status: string; run_id: string | null}[]}> {
  const res = await api(b, 'GET', `/api/tasks/${name}`)
  expect(res.status).toBe(200)
  return res.body.state
}

/** The STATE column of `sched list` for one unit. */
async function listState(b: Sandbox, name: string): Promise<string> {
  const res = await b.cli(['list'])
  expect(res.code).toBe(0)
  const row = res.stdout.split('\n').find((l) => l.startsWith(`${name} `))
  expect(row, `a row for ${name} in:\n${res.stdout}`).toBeDefined()
  return row!
}

describe('instances', () => {
  it('runs 3 instances with SCHED_INSTANCE = instance_index 0, 1, 2; one killed from outside is refilled in its slot', async ({box}) => {
    const b = await serve(box, `[services.web]\n${FOREVER}\ninstances = 3\n`)
    const runs = await upInstances(b, 'web', 3)
    expect(runs.map((r) => r.instance_index)).toEqual([0, 1, 2])
    expect(runs.every((r) => r.kind === 'service' && r.triggered_by === 'service')).toBe(true)
    for (const r of runs) {
      await until(async () => (await b.logText('web', r.id)).includes('instance='), 3000, `instance ${r.instance_index} to print`)
      expect(await b.logText('web', r.id)).toBe(`instance=${r.instance_index}`)
    }

    const victim = runs[1]
    const killedAt = Date.now()
    process.kill(victim.pid!, 'SIGKILL')
    const refill = await until(() => running(b, 'web').find((r) => r.instance_index === 1 && r.id !== victim.id), 3000, 'instance 1 to be refilled')
    b.pids.add(refill.pid!)
    const took = ms(refill.started_at) - killedAt
    // restart_delay defaults to 1s (n = 0).
    expect(took).toBeGreaterThanOrEqual(900)
    expect(took).toBeLessThanOrEqual(1500)
    expect(b.run('web', victim.id)).toMatchObject({status: 'ended', end_reason: 'failed', signal: 'SIGKILL', exit_code: null})
    // The other instances were not touched; still exactly one run per slot.
    const now = running(b, 'web').sort((x, y) => x.instance_index! - y.instance_index!)
    expect(now.map((r) => [r.instance_index, r.id])).toEqual([
      [0, runs[0].id],
      [1, refill.id],
      [2, runs[2].id],
    ])
    expect(alive(victim.pid!)).toBe(false)
  })
})

describe('restarts, backoff and FATAL', () => {
  it('exits 1 at once: 4 starts ≈ 200/400/800 ms apart, then FATAL (start_failed, state fatal, FATAL in list); sched start clears it', async ({box}) => {
    const b = await serve(box, `[services.crash]\nrun = "exit 1"\nrestart_delay = "200ms"\nrestart_backoff = "exponential"\nstart_retries = 3\n`)
    const runs = await until(() => {
      const r = b.runs('crash')
      return r.length >= 4 && r.every((x) => x.status === 'ended') && r
    }, 8000, 'four ended runs')
    const starts = runs.map((r) => ms(r.started_at))
    const gaps = starts.slice(1).map((t, i) => t - starts[i])
    for (const [i, gap] of [200, 400, 800].entries()) {
      expect(gaps[i], `gap ${i + 1} (${gaps.join(', ')})`).toBeGreaterThanOrEqual(gap)
      expect(gaps[i], `gap ${i + 1} (${gaps.join(', ')})`).toBeLessThanOrEqual(gap + 400)
    }
    expect(runs.map((r) => r.end_reason)).toEqual(['failed', 'failed', 'failed', 'start_failed'])
    expect(runs.map((r) => r.exit_code)).toEqual([1, 1, 1, 1])

    // FATAL: no fifth start, and it says so everywhere.
    await sleep(1000)
    expect(b.runs('crash')).toHaveLength(4)
    const state = await serviceState(b, 'crash')
    expect(state.status).toBe('fatal')
    expect(state.instances).toEqual([expect.objectContaining({index: 0, status: 'fatal', run_id: null})])
    expect(await listState(b, 'crash')).toMatch(/\bFATAL\s*$/)

    const t = Date.now()
    const res = await b.cli(['start', 'crash'])
    expect(res.code, res.stderr).toBe(0)
    const fifth = await until(() => b.runs('crash')[4], 3000, 'a fifth run')
    expect(ms(fifth.started_at)).toBeGreaterThanOrEqual(t - 50)
    expect(fifth.instance_index).toBe(0)
  })

  it('lives 1.2 s then exits 1 (healthy_after 1s): restarts ≈ 200 ms after each exit and is not FATAL after 5 cycles', async ({box}) => {
    const b = await serve(box, `[services.flappy]\nrun = "sleep 1.2; exit 1"\nrestart_delay = "200ms"\nrestart_backoff = "exponential"\nstart_retries = 3\nhealthy_after = "1s"\n`)
    const runs = await until(() => {
      const r = b.runs('flappy')
      return r.length >= 6 && r
    }, 15_000, 'six starts')
    const ended = runs.filter((r) => r.status === 'ended')
    expect(ended.length).toBeGreaterThanOrEqual(5)
    expect(ended.every((r) => r.end_reason === 'failed' && r.exit_code === 1)).toBe(true)
    // Restart delay after each exit: 200 ms every time (the counter reset when the instance got healthy).
    const delays = runs.slice(1).map((r, i) => ms(r.started_at) - ms(runs[i].ended_at))
    for (const d of delays) {
      expect(d, `delays ${delays.join(', ')}`).toBeGreaterThanOrEqual(190)
      expect(d, `delays ${delays.join(', ')}`).toBeLessThanOrEqual(600)
    }
    expect((await serviceState(b, 'flappy')).status).not.toBe('fatal')
    expect(b.runs('flappy').some((r) => r.end_reason === 'start_failed')).toBe(false)
  })

  it('restart = "on_failure": a clean exit 0 is not restarted, an exit 1 is', async ({box}) => {
    const b = await serve(box, `[services.clean]\nrun = "exit 0"\nrestart = "on_failure"\nrestart_delay = "200ms"\n[services.dirty]\nrun = "sleep 0.1; exit 1"\nrestart = "on_failure"\nrestart_delay = "200ms"\nstart_retries = 20\n`)
    const first = await until(() => b.runs('clean').find((r) => r.status === 'ended'), 5000, 'the clean run to end')
    expect(first).toMatchObject({end_reason: 'success', exit_code: 0})
    await until(() => b.runs('dirty').length >= 2, 5000, 'dirty to be restarted')
    await sleep(1500)
    expect(b.runs('clean')).toHaveLength(1)
    expect((await serviceState(b, 'clean')).status).toBe('stopped')
    expect(b.runs('dirty').length).toBeGreaterThanOrEqual(3)
  })
})

describe('boot order and shutdown', () => {
  it('depends_on: the dependent starts once its dependency has been up healthy_after; at shutdown it ends first', async ({box}) => {
    // web takes 0.5 s to stop: its dependency must still be running until web has ended.
    const webRun = q(`trap 'sleep 0.5; exit 0' TERM; echo up; while :; do sleep 0.1; done`)
    const b = await serve(box, `[services.db]\n${FOREVER}\nhealthy_after = "1s"\npriority = 5\n[services.web]\nrun = ${webRun}\ndepends_on = ["db"]\n`)
    const [db] = await upInstances(b, 'db', 1)
    const [web] = await upInstances(b, 'web', 1, 5000)
    const waited = ms(web.started_at) - ms(db.started_at)
    expect(waited).toBeGreaterThanOrEqual(1000)
    expect(waited).toBeLessThan(2000)
    await until(async () => (await b.logText('web', web.id)).includes('up'), 3000, 'web to trap TERM')

    expect(await b.stop('SIGTERM')).toBe(0)
    const [dbEnd, webEnd] = [b.run('db', db.id)!, b.run('web', web.id)!]
    expect(webEnd).toMatchObject({status: 'ended', end_reason: 'stopped'})
    expect(dbEnd).toMatchObject({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM'})
    expect(ms(webEnd.ended_at) - ms(webEnd.started_at)).toBeGreaterThan(0)
    // db was asked to stop only after web had ended (web needed ≈ 0.5 s for its trap).
    expect(ms(dbEnd.ended_at)).toBeGreaterThanOrEqual(ms(webEnd.ended_at))
  })

  it('SIGTERM while a dependent still waits for its dependency: the daemon exits promptly and the dependent never starts', async ({box}) => {
    // 2 × 20 s + 30 s would be the longest wait for db.
    const b = await serve(box, `[daemon]\nshutdown_timeout = "3s"\n[services.db]\n${FOREVER}\nhealthy_after = "20s"\n[services.web]\n${FOREVER}\ndepends_on = ["db"]\n`)
    await upInstances(b, 'db', 1)
    const d = b.daemon!
    const t0 = Date.now()
    const code = await Promise.race([d.stop('SIGTERM'), sleep(6000).then(() => 'still running after 6 s')])
    expect(code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(b.runs('web')).toEqual([])
  })

  it('autostart = false boots stopped; sched start starts it', async ({box}) => {
    const b = await serve(box, `[services.lazy]\n${FOREVER}\nautostart = false\ninstances = 2\n`)
    await sleep(800)
    expect(b.runs('lazy')).toEqual([])
    expect((await serviceState(b, 'lazy')).status).toBe('stopped')
    expect(await listState(b, 'lazy')).toMatch(/\bstopped\s*$/)
    const res = await b.cli(['start', 'lazy'])
    expect(res.code, res.stderr).toBe(0)
    const runs = await upInstances(b, 'lazy', 2)
    expect(runs.map((r) => r.instance_index)).toEqual([0, 1])
  })
})

describe('sched stop / start / restart', () => {
  it('stop stops every instance (`stopped`) and it stays stopped; start brings it back; restart cycles all instances', async ({box}) => {
    const b = await serve(box, `[services.web]\n${FOREVER}\ninstances = 2\nrestart_delay = "100ms"\n`)
    const first = await upInstances(b, 'web', 2)

    const stop = await b.cli(['stop', 'web'])
    expect(stop.code, stop.stderr).toBe(0)
    // The answer comes once the instances have ended.
    expect(first.map((r) => b.run('web', r.id))).toEqual([
      expect.objectContaining({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM'}),
      expect.objectContaining({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM'}),
    ])
    expect((await serviceState(b, 'web')).status).toBe('stopped')
    await sleep(2000)
    expect(b.runs('web')).toHaveLength(2)
    expect(first.some((r) => alive(r.pid!))).toBe(false)

    const start = await b.cli(['start', 'web'])
    expect(start.code, start.stderr).toBe(0)
    const second = await upInstances(b, 'web', 2)
    expect(second.map((r) => r.instance_index)).toEqual([0, 1])
    expect(b.runs('web')).toHaveLength(4)

    const restart = await b.cli(['restart', 'web'])
    expect(restart.code, restart.stderr).toBe(0)
    const third = await upInstances(b, 'web', 2)
    expect(third.map((r) => r.instance_index)).toEqual([0, 1])
    expect(third.map((r) => r.id).filter((id) => second.some((s) => s.id === id))).toEqual([])
    expect(second.map((r) => b.run('web', r.id)!.end_reason)).toEqual(['stopped', 'stopped'])
    expect(b.runs('web')).toHaveLength(6)
  })

  it('api_trigger = false refuses stop, start and restart from the CLI (exit 1) and the API (403)', async ({box}) => {
    const b = await serve(box, `[services.locked]\n${FOREVER}\napi_trigger = false\n`)
    const [run] = await upInstances(b, 'locked', 1)
    for (const action of ['stop', 'start', 'restart']) {
      const res = await b.cli([action, 'locked'])
      expect(res.code, `sched ${action}: ${res.stdout}${res.stderr}`).toBe(1)
      expect(res.stderr).toContain('api_trigger = false')
      const http = await api(b, 'POST', `/api/tasks/locked/${action}`)
      expect(http.status, `POST ${action}`).toBe(403)
      expect(http.body.detail).toContain('api_trigger = false')
    }
    // Nothing happened to it.
    expect(b.runs('locked').map((r) => [r.id, r.status])).toEqual([[run.id, 'running']])
    expect(alive(run.pid!)).toBe(true)
  })
})

describe('a daemon killed with SIGKILL', () => {
  it('leaves its instances running; the next boot ends them `crashed`, kills them, and starts exactly `instances` new ones', async ({box}) => {
    const b = await serve(box, `[services.web]\n${FOREVER}\ninstances = 2\n`)
    const before = await upInstances(b, 'web', 2)
    await b.stop('SIGKILL')
    await sleep(200)
    expect(before.every((r) => alive(r.pid!))).toBe(true)

    await b.start()
    // Recovery happens before the daemon announces itself.
    for (const r of before) expect(b.run('web', r.id)).toMatchObject({status: 'ended', end_reason: 'crashed'})
    await until(() => before.every((r) => !alive(r.pid!)), 2000, 'the old instances to be gone')
    const after = await upInstances(b, 'web', 2)
    expect(after.map((r) => r.instance_index)).toEqual([0, 1])
    await sleep(1000)
    expect(running(b, 'web').map((r) => r.id).sort()).toEqual(after.map((r) => r.id).sort())
    expect(b.runs('web')).toHaveLength(4)
    // Exactly the new instances' processes are alive: no duplicates, no survivors.
    expect(b.leftovers().sort()).toEqual(after.map((r) => r.pid!).sort())
  })
})
