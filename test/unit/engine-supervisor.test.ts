import {describe, expect, it} from 'vitest'
import {loadConfigText} from '../../src/config/load.js'
import {type LogFields, type Logger, createLogger} from '../../src/core/logger.js'
import type {Unit} from '../../src/core/types.js'
import {type ServiceState, Supervisor} from '../../src/engine/supervisor.js'
import {FakeClock} from '../support/fake-clock.js'
import {StateLayout} from '../../src/state/layout.js'
import {RunOwner} from '../../src/engine/run-owner.js'
import {type Behaviour, FakeLauncher, MemoryRecords, advance, settle} from '../support/fake-launcher.js'

/**
 * The Supervisor on a fake clock with fake processes (SPEC §2 restart, restart_delay,
 * restart_backoff, healthy_after, start_retries, instances, autostart, priority, depends_on; §7
 * boot and shutdown; §8 reload; §9 stop/start/restart). Every launch is recorded with its fake
 * time, so delays are asserted to the millisecond.
 */

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0)

/** Effective units from TOML, exactly as the daemon gets them. */
function units(toml: string): Unit[] {
  const result = loadConfigText(toml, '/tmp/sched-supervisor-test/sched.toml')
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.key}: ${e.message}`).join('\n'))
  return [...result.config.units]
}

interface Harness {
  clock: FakeClock
  runs: FakeLauncher
  sup: Supervisor
  events: {name: string; state: ServiceState | undefined}[]
  warnings: {event: string; fields?: LogFields}[]
  /** Moves the fake clock by `ms`, letting the supervisor's promise callbacks run between timers. */
  advance(ms: number): Promise<void>
}

function harness(behaviour?: FakeLauncher['behaviour'], options: {placed?: boolean} = {}): Harness {
  const clock = new FakeClock(T0)
  const runs = new FakeLauncher(clock)
  if (behaviour) runs.behaviour = behaviour
  const warnings: Harness['warnings'] = []
  const base = createLogger('text', () => {})
  const logger: Logger = {...base, warn: (event, fields) => warnings.push({event, fields})}
  const owner = new RunOwner({
    clock,
    logger,
    records: new MemoryRecords(clock),
    launcher: runs,
    layout: new StateLayout('/nonexistent'),
    unit: () => undefined,
    secrets: () => ({}),
    shutdownTimeout: () => 10e9,
  })
  runs.attach(owner)
  const sup = new Supervisor({clock, logger, runs: owner, placed: options.placed})
  const events: Harness['events'] = []
  // A deep copy: the event must carry the state as it was when it was emitted.
  sup.on('service.state', (name: string, state?: ServiceState) => events.push({name, state: state && structuredClone(state)}))
  return {clock, runs, sup, events, warnings, advance: (ms) => advance(clock, ms)}
}

/** Boots and lets the launches happen; resolves with boot()'s promise (it may wait for dependencies). */
async function booted(h: Harness, list: Unit[]): Promise<{boot: Promise<void>}> {
  const boot = h.sup.boot(list)
  await settle()
  return {boot}
}

const by = (b: Behaviour) => () => b
const rel = (times: number[]) => times.map((t) => t - T0)
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i])

describe('instances', () => {
  it('3 instances get indexes 0, 1, 2, each its own run, healthy after healthy_after', async () => {
    const h = harness()
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 3\nhealthy_after = "2s"\n'))
    expect(h.runs.processes.map((p) => p.instance)).toEqual([0, 1, 2])
    expect(h.runs.processes.map((p) => p.run.record.instance_index)).toEqual([0, 1, 2])
    expect(h.runs.processes.every((p) => p.run.record.triggered_by === 'service')).toBe(true)
    const state = h.sup.state('web')!
    expect(state.status).toBe('starting')
    expect(state.instances.map((i) => [i.index, i.status, i.run_id, i.pid])).toEqual(h.runs.processes.map((p) => [p.instance, 'starting', p.run.record.id, p.pid]))
    expect(h.sup.healthy('web')).toBe(false)
    await h.advance(1999)
    expect(h.sup.state('web')!.status).toBe('starting')
    await h.advance(1)
    expect(h.sup.state('web')).toMatchObject({status: 'running', instances: [{index: 0, status: 'running'}, {index: 1, status: 'running'}, {index: 2, status: 'running'}]})
    expect(h.sup.healthy('web')).toBe(true)
  })

  it('an exited instance is refilled in the same slot after restart_delay; the others are untouched', async () => {
    const h = harness()
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 3\nhealthy_after = "1s"\nrestart_delay = "1s"\n'))
    await h.advance(5000)
    const [p0, p1, p2] = h.runs.processes
    p1.exit(null, 'SIGKILL')
    expect(p1.endReason).toBe('failed')
    await settle()
    expect(h.sup.state('web')).toMatchObject({status: 'backoff', instances: [{index: 0, status: 'running'}, {index: 1, status: 'backoff', run_id: null, pid: null, restarts: 1}, {index: 2, status: 'running'}]})
    await h.advance(999)
    expect(h.runs.processes).toHaveLength(3)
    await h.advance(1)
    expect(h.runs.processes).toHaveLength(4)
    const refill = h.runs.processes[3]
    expect(refill.instance).toBe(1)
    expect(refill.launchedAt - T0).toBe(6000)
    expect([p0.alive, p2.alive]).toEqual([true, true])
    const live = h.runs.live('web').map((p) => p.instance).sort()
    expect(live).toEqual([0, 1, 2])
    expect(h.sup.state('web')!.instances[1]).toMatchObject({status: 'starting', run_id: refill.run.record.id})
  })
})

describe('restart delays, fast failures and FATAL', () => {
  const crashLoop = '[services.crash]\nrun = "exit 1"\nrestart_delay = "200ms"\nrestart_backoff = "exponential"\nstart_retries = 3\nhealthy_after = "1s"\n'

  it('exits 1 at once, 200 ms exponential, start_retries 3: launches at t, +200, +600, +1400, then FATAL', async () => {
    const h = harness(by({exitAfterMs: 0, exitCode: 1}))
    await booted(h, units(crashLoop))
    await h.advance(10 * 60_000)
    const times = h.runs.launchTimes('crash')
    expect(rel(times)).toEqual([0, 200, 600, 1400])
    expect(gaps(times)).toEqual([200, 400, 800])
    expect(h.runs.processes.map((p) => [p.endReason, p.fatal])).toEqual([
      ['failed', false],
      ['failed', false],
      ['failed', false],
      ['start_failed', true],
    ])
    expect(h.sup.state('crash')).toEqual({status: 'fatal', instances: [{index: 0, status: 'fatal', pid: null, run_id: null, restarts: 3}]})
    // FATAL arms nothing: no more launches, however long we wait.
    expect(h.clock.pending()).toBe(0)
  })

  it('only the FATAL slot stops; the service reads fatal while the other instances keep running', async () => {
    const h = harness((_u, instance) => (instance === 1 ? {exitAfterMs: 0} : {}))
    await booted(h, units(crashLoop.replace('run = "exit 1"', 'run = "x"\ninstances = 2')))
    await h.advance(60_000)
    expect(h.runs.of('crash', 1)).toHaveLength(4)
    expect(h.runs.of('crash', 0)).toHaveLength(1)
    expect(h.sup.state('crash')).toMatchObject({status: 'fatal', instances: [{index: 0, status: 'running'}, {index: 1, status: 'fatal'}]})
  })

  it('lives 1.2 s then exits 1 (healthy_after 1 s): restarts every 200 ms for 20 cycles, never FATAL', async () => {
    const h = harness(by({exitAfterMs: 1200, exitCode: 1}))
    await booted(h, units(crashLoop))
    await h.advance(20 * 1400)
    const times = h.runs.launchTimes('crash')
    expect(times).toHaveLength(21)
    // Each instance lived 1.2 s and was restarted 200 ms after its exit: n reset when it got healthy.
    expect(gaps(times)).toEqual(Array(20).fill(1400))
    expect(h.runs.processes.slice(0, 20).every((p) => p.endReason === 'failed' && !p.fatal)).toBe(true)
    expect(h.sup.state('crash')!.status).not.toBe('fatal')
    expect(h.events.some((e) => e.state?.status === 'fatal')).toBe(false)
  })

  it('an instance seen to exit exactly when healthy_after runs out was healthy: 200 ms, never growing', async () => {
    // The exit and the health timer come due at the same instant; the exit is handled first.
    const h = harness(by({exitAfterMs: 1000, exitCode: 1}))
    await booted(h, units(crashLoop))
    await h.advance(10 * 1200)
    const times = h.runs.launchTimes('crash')
    expect(gaps(times)).toEqual(Array(times.length - 1).fill(1200))
    expect(times.length).toBeGreaterThanOrEqual(10)
  })

  it('healthy_after = 0: healthy as soon as it is launched, without waiting for the clock', async () => {
    const h = harness()
    await booted(h, units('[services.web]\nrun = "x"\nhealthy_after = "0s"\ninstances = 2\n'))
    expect(h.sup.state('web')).toMatchObject({status: 'running', instances: [{status: 'running'}, {status: 'running'}]})
  })

  it('healthy_after = 0: an instance is healthy at launch, so instant failures restart at d forever', async () => {
    const h = harness(by({exitAfterMs: 0}))
    await booted(h, units(crashLoop.replace('healthy_after = "1s"', 'healthy_after = "0s"').replace('start_retries = 3', 'start_retries = 0')))
    await h.advance(20 * 200)
    const times = h.runs.launchTimes('crash')
    expect(times).toHaveLength(21)
    expect(gaps(times)).toEqual(Array(20).fill(200))
    expect(h.runs.processes.some((p) => p.fatal)).toBe(false)
  })

  it('start_retries = 0: the first fast failure is FATAL', async () => {
    const h = harness(by({exitAfterMs: 50}))
    await booted(h, units(crashLoop.replace('start_retries = 3', 'start_retries = 0')))
    await h.advance(60_000)
    expect(h.runs.processes.map((p) => p.endReason)).toEqual(['start_failed'])
    expect(h.sup.state('crash')!.status).toBe('fatal')
  })

  it('restart = "on_failure": a clean exit is not restarted, a failed one is', async () => {
    const h = harness((_u, _i, nth) => ({exitAfterMs: 100, exitCode: nth === 0 ? 1 : 0}))
    await booted(h, units('[services.job]\nrun = "x"\nrestart = "on_failure"\nrestart_delay = "300ms"\n'))
    await h.advance(60_000)
    // The first exits 1 and is restarted after 300 ms; the second exits 0 and stays down.
    expect(rel(h.runs.launchTimes('job'))).toEqual([0, 400])
    expect(h.runs.processes.map((p) => p.endReason)).toEqual(['failed', 'success'])
    expect(h.sup.state('job')).toMatchObject({status: 'stopped', instances: [{status: 'stopped', run_id: null}]})
  })

  it('restart = "never": nothing is restarted', async () => {
    const h = harness(by({exitAfterMs: 20_000, exitCode: 1}))
    await booted(h, units('[services.once]\nrun = "x"\nrestart = "never"\nrestart_delay = "0s"\n'))
    await h.advance(10 * 60_000)
    expect(h.runs.processes).toHaveLength(1)
    expect(h.sup.state('once')!.status).toBe('stopped')
  })

  it('restart = "always" restarts a clean exit too', async () => {
    const h = harness(by({exitAfterMs: 100, exitCode: 0}))
    await booted(h, units('[services.loop]\nrun = "x"\nrestart_delay = "1s"\nrestart_backoff = "constant"\n'))
    await h.advance(3300)
    expect(rel(h.runs.launchTimes('loop'))).toEqual([0, 1100, 2200, 3300])
  })

  it('start() clears FATAL and the counters: back at once, the next failures back off from d and FATAL needs start_retries + 1 more', async () => {
    const h = harness(by({exitAfterMs: 0}))
    await booted(h, units(crashLoop))
    await h.advance(60_000)
    expect(h.sup.state('crash')!.status).toBe('fatal')
    const t = h.clock.now()
    expect(h.sup.start('crash')).toBe('started')
    await h.advance(60_000)
    const again = h.runs.launchTimes('crash').slice(4)
    expect(again.map((x) => x - t)).toEqual([0, 200, 600, 1400])
    expect(h.runs.processes.slice(4).map((p) => p.endReason)).toEqual(['failed', 'failed', 'failed', 'start_failed'])
    expect(h.sup.state('crash')!.status).toBe('fatal')
  })
})

describe('stop, start, restart', () => {
  it('stop() stops every instance (ended `stopped`) and keeps the service stopped; start() brings it back in the same slots', async () => {
    const h = harness()
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 2\nhealthy_after = "1s"\nrestart_delay = "100ms"\n'))
    await h.advance(2000)
    expect(await h.sup.stop('web')).toBe(true)
    expect(h.runs.processes.map((p) => [p.stopCause, p.endReason])).toEqual([
      ['operator', 'stopped'],
      ['operator', 'stopped'],
    ])
    expect(h.sup.state('web')).toEqual({
      status: 'stopped',
      instances: [
        {index: 0, status: 'stopped', pid: null, run_id: null, restarts: 0},
        {index: 1, status: 'stopped', pid: null, run_id: null, restarts: 0},
      ],
    })
    await h.advance(24 * 3_600_000)
    expect(h.runs.processes).toHaveLength(2)
    expect(h.clock.pending()).toBe(0)
    expect(h.sup.start('web')).toBe('started')
    await settle()
    expect(h.runs.processes.slice(2).map((p) => [p.instance, p.launchedAt - T0])).toEqual([
      [0, 2000 + 24 * 3_600_000],
      [1, 2000 + 24 * 3_600_000],
    ])
    expect(h.sup.start('web')).toBe('running')
  })

  it('stop() during backoff cancels the pending restart', async () => {
    const h = harness(by({exitAfterMs: 0}))
    await booted(h, units('[services.web]\nrun = "x"\nrestart_delay = "5s"\n'))
    await h.advance(1)
    expect(h.sup.state('web')!.status).toBe('backoff')
    await h.sup.stop('web')
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(1)
    expect(h.sup.state('web')!.status).toBe('stopped')
  })

  it('an instance that exits on its own while its service is stopping is not restarted', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\nrestart_delay = "0s"\n'))
    const stopping = h.sup.stop('web')
    await h.advance(100)
    h.runs.processes[0].exit(1)
    await stopping
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(1)
    expect(h.runs.processes[0].endReason).toBe('stopped')
  })

  it('restart() cycles every instance: new runs in the same slots once the old ones ended', async () => {
    const h = harness(by({stopTakesMs: 300}))
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 3\n'))
    await h.advance(1000)
    const restarting = h.sup.restart('web')
    await h.advance(300)
    await restarting
    await settle()
    const [old, fresh] = [h.runs.processes.slice(0, 3), h.runs.processes.slice(3)]
    expect(old.map((p) => [p.endReason, p.endedAt! - T0])).toEqual(Array(3).fill(['stopped', 1300]))
    expect(fresh.map((p) => [p.instance, p.launchedAt - T0])).toEqual([
      [0, 1300],
      [1, 1300],
      [2, 1300],
    ])
    expect(new Set(fresh.map((p) => p.run.record.id)).size).toBe(3)
  })

  it('cycleInstance() stops one instance and starts it again in its slot at once, not as a failure', async () => {
    const h = harness(by({stopTakesMs: 300}))
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 2\nrestart_delay = "5s"\n'))
    await h.advance(1000)
    const target = h.runs.processes[1]
    const cycling = h.sup.cycleInstance('web', target.run.record.id)
    await h.advance(300)
    expect(await cycling).toBe(true)
    await settle()
    expect(target.endReason).toBe('stopped')
    const fresh = h.runs.processes.slice(2)
    expect(fresh.map((p) => [p.instance, p.launchedAt - T0])).toEqual([[1, 1300]])
    expect(h.runs.processes[0].endReason).toBeUndefined()
    expect(h.sup.state('web')!.instances.map((i) => i.restarts)).toEqual([0, 0])
    expect(await h.sup.cycleInstance('web', 'not-a-run')).toBe(false)
  })

  it('restart() clears FATAL and the counters too', async () => {
    const h = harness(by({exitAfterMs: 0}))
    await booted(h, units('[services.crash]\nrun = "x"\nrestart_delay = "200ms"\nstart_retries = 2\nhealthy_after = "1s"\n'))
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(3)
    expect(h.sup.state('crash')!.status).toBe('fatal')
    const t = h.clock.now()
    expect(await h.sup.restart('crash')).toBe(true)
    await h.advance(60_000)
    expect(h.runs.launchTimes('crash').slice(3).map((x) => x - t)).toEqual([0, 200, 600])
    expect(h.runs.processes.slice(3).map((p) => p.endReason)).toEqual(['failed', 'failed', 'start_failed'])
  })

  it('a stop that comes in while a restart is stopping the instances has the last word: nothing is started again', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 2\n'))
    const restarting = h.sup.restart('web')
    await h.advance(100)
    const stopping = h.sup.stop('web')
    await h.advance(1000)
    await Promise.all([restarting, stopping])
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(2)
    expect(h.sup.state('web')!.status).toBe('stopped')
  })

  it('a start that comes in while a stop is under way brings the instances back once they have ended', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 2\n'))
    const stopping = h.sup.stop('web')
    await h.advance(100)
    expect(h.sup.start('web')).toBe('started')
    await h.advance(400)
    await stopping
    await settle()
    expect(h.runs.processes.map((p) => [p.instance, p.launchedAt - T0, p.endReason])).toEqual([
      [0, 0, 'stopped'],
      [1, 0, 'stopped'],
      [0, 500, undefined],
      [1, 500, undefined],
    ])
    expect(h.sup.state('web')!.status).toBe('starting')
  })

  it('a start during a stop clears the counters of the instances it brings back', async () => {
    // Each instance lives 50 ms and fails: two fast failures, then a stop while the 3rd is up.
    const h = harness((_u, _i, nth) => (nth < 2 ? {exitAfterMs: 50} : nth === 2 ? {stopTakesMs: 500} : {exitAfterMs: 50}))
    await booted(h, units('[services.web]\nrun = "x"\nrestart_delay = "100ms"\nstart_retries = 3\nhealthy_after = "10s"\n'))
    await h.advance(500)
    expect(h.runs.processes).toHaveLength(3)
    const stopping = h.sup.stop('web')
    await h.advance(100)
    h.sup.start('web')
    await h.advance(400)
    await stopping
    await h.advance(60_000)
    // Launches at 0, 150, 400; stopped from 500 to 1000; back at 1000 with fresh counters: four
    // more fast failures (restarts 100, 200, 400 ms after each exit) before FATAL, as after any start.
    expect(rel(h.runs.launchTimes('web').slice(0, 3))).toEqual([0, 150, 400])
    expect(rel(h.runs.launchTimes('web').slice(3))).toEqual([1000, 1150, 1400, 1850])
    expect(h.runs.processes.slice(3).map((p) => p.endReason)).toEqual(['failed', 'failed', 'failed', 'start_failed'])
  })

  it('a start that comes in while a restart is stopping the instances: each slot comes back once', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 2\n'))
    const restarting = h.sup.restart('web')
    await h.advance(100)
    expect(h.sup.start('web')).toBe('started')
    await h.advance(1000)
    await restarting
    expect(h.runs.processes.map((p) => [p.instance, p.launchedAt - T0])).toEqual([
      [0, 0],
      [1, 0],
      [0, 500],
      [1, 500],
    ])
    expect(h.runs.live('web')).toHaveLength(2)
  })

  it('stop, start, stop in quick succession: stopped, and it stays so', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\n'))
    const first = h.sup.stop('web')
    await h.advance(100)
    h.sup.start('web')
    await h.advance(100)
    const second = h.sup.stop('web')
    await h.advance(1000)
    await Promise.all([first, second])
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(1)
    expect(h.sup.state('web')!.status).toBe('stopped')
  })

  it('unknown names', async () => {
    const h = harness()
    await booted(h, [])
    expect(h.sup.start('nope')).toBe('unknown')
    expect(await h.sup.stop('nope')).toBe(false)
    expect(await h.sup.restart('nope')).toBe(false)
    expect(h.sup.state('nope')).toBeUndefined()
  })
})

describe('boot', () => {
  it('autostart = false boots stopped (and says so); start() starts it', async () => {
    const h = harness()
    await booted(h, units('[services.lazy]\nrun = "x"\nautostart = false\ninstances = 2\n'))
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(0)
    expect(h.sup.state('lazy')!.status).toBe('stopped')
    expect(h.events.filter((e) => e.name === 'lazy').map((e) => e.state?.status)).toEqual(['stopped'])
    expect(h.sup.start('lazy')).toBe('started')
    await settle()
    expect(h.runs.processes.map((p) => p.instance)).toEqual([0, 1])
  })

  it('starts services by priority, lowest first, ties by name', async () => {
    const h = harness()
    await booted(
      h,
      units(`[services.b]\nrun = "x"\n[services.a]\nrun = "x"\n[services.late]\nrun = "x"\npriority = 5\n[services.z]\nrun = "x"\npriority = -1\n[services.c]\nrun = "x"\npriority = 0\n`),
    )
    expect(h.runs.processes.map((p) => p.service)).toEqual(['z', 'a', 'b', 'c', 'late'])
  })

  it('depends_on: the dependent starts when its dependency becomes healthy', async () => {
    const h = harness()
    const {boot} = await booted(h, units('[services.db]\nrun = "x"\nhealthy_after = "3s"\n[services.web]\nrun = "x"\ndepends_on = ["db"]\npriority = -5\n'))
    expect(h.runs.processes.map((p) => p.service)).toEqual(['db'])
    await h.advance(2999)
    expect(h.runs.of('web')).toHaveLength(0)
    await h.advance(1)
    expect(h.runs.launchTimes('web').map((t) => t - T0)).toEqual([3000])
    await boot
    expect(h.warnings).toEqual([])
  })

  it('depends_on several services: waits for all of them, and for every instance of each', async () => {
    // db#1 fails once at 500 ms and is back at 600 ms: db is healthy at 1600 ms, not at 1000 ms.
    const h = harness((unit, instance, nth) => (unit.name === 'db' && instance === 1 && nth === 0 ? {exitAfterMs: 500} : {}))
    await booted(h, units('[services.db]\nrun = "x"\nhealthy_after = "1s"\ninstances = 2\nrestart_delay = "100ms"\n[services.cache]\nrun = "x"\nhealthy_after = "1200ms"\n[services.web]\nrun = "x"\ndepends_on = ["db", "cache"]\n'))
    await h.advance(60_000)
    expect(rel(h.runs.launchTimes('db', 1))).toEqual([0, 600])
    expect(rel(h.runs.launchTimes('web'))).toEqual([1600])
  })

  it('depends_on a chain: each waits for the one before it', async () => {
    const h = harness()
    await booted(h, units('[services.a]\nrun = "x"\nhealthy_after = "1s"\n[services.b]\nrun = "x"\nhealthy_after = "2s"\ndepends_on = ["a"]\n[services.c]\nrun = "x"\ndepends_on = ["b"]\n'))
    await h.advance(60_000)
    expect([rel(h.runs.launchTimes('a')), rel(h.runs.launchTimes('b')), rel(h.runs.launchTimes('c'))]).toEqual([[0], [1000], [3000]])
  })

  it('a dependency that never becomes healthy delays the dependent by exactly 2 × healthy_after + 30 s, with a warning', async () => {
    // db crash-loops into FATAL: it is never healthy.
    const h = harness((unit) => (unit.name === 'db' ? {exitAfterMs: 0} : {}))
    const {boot} = await booted(h, units('[services.db]\nrun = "x"\nhealthy_after = "5s"\nrestart_delay = "100ms"\n[services.web]\nrun = "x"\ndepends_on = ["db"]\n'))
    await h.advance(39_999)
    expect(h.sup.state('db')!.status).toBe('fatal')
    expect(h.runs.of('web')).toHaveLength(0)
    expect(h.warnings).toEqual([])
    await h.advance(1)
    expect(rel(h.runs.launchTimes('web'))).toEqual([40_000])
    await boot
    expect(h.warnings).toEqual([{event: 'service.dependency_unhealthy', fields: {service: 'web', depends_on: 'db', waited_ms: 40_000}}])
  })

  it('a dependency that is never started (autostart = false) delays its dependent by 2 × healthy_after + 30 s too', async () => {
    const h = harness()
    await booted(h, units('[services.db]\nrun = "x"\nautostart = false\nhealthy_after = "0s"\n[services.web]\nrun = "x"\ndepends_on = ["db"]\n'))
    await h.advance(29_999)
    expect(h.runs.processes).toHaveLength(0)
    await h.advance(1)
    expect(h.runs.processes.map((p) => [p.service, p.launchedAt - T0])).toEqual([['web', 30_000]])
  })

  it('a FATAL instance is not revived when its service\'s boot-time dependency wait ends', async () => {
    // web is started by hand while it waits for db, goes FATAL, and must stay FATAL.
    const h = harness((unit) => (unit.name === 'web' ? {exitAfterMs: 0} : {}))
    await booted(h, units('[services.db]\nrun = "x"\nhealthy_after = "60s"\n[services.web]\nrun = "x"\ndepends_on = ["db"]\nstart_retries = 0\nhealthy_after = "1s"\n'))
    expect(h.sup.start('web')).toBe('started')
    await h.advance(10)
    expect(h.sup.state('web')!.status).toBe('fatal')
    await h.advance(200_000)
    expect(h.runs.of('web')).toHaveLength(1)
    expect(h.sup.state('web')!.status).toBe('fatal')
  })
})

describe('shutdown', () => {
  const chain = '[services.db]\nrun = "x"\nhealthy_after = "0s"\n[services.web]\nrun = "x"\nhealthy_after = "0s"\ndepends_on = ["db"]\ninstances = 2\n[services.api]\nrun = "x"\nhealthy_after = "0s"\ndepends_on = ["web"]\n[services.solo]\nrun = "x"\nhealthy_after = "0s"\n'

  it('stops dependents before their dependencies: each waits for the ones that depend on it to end', async () => {
    const h = harness(by({stopTakesMs: 100}))
    await booted(h, units(chain))
    await h.advance(1000)
    expect(h.runs.live()).toHaveLength(5)
    const t = h.clock.now()
    const done = h.sup.shutdown(10_000)
    await h.advance(1000)
    await done
    const at = (s: string) => h.runs.of(s).map((p) => [p.stopRequestedAt! - t, p.endedAt! - t])
    expect(at('api')).toEqual([[0, 100]])
    expect(at('solo')).toEqual([[0, 100]])
    expect(at('web')).toEqual([
      [100, 200],
      [100, 200],
    ])
    expect(at('db')).toEqual([[200, 300]])
    expect(h.runs.processes.every((p) => p.endReason === 'stopped' && p.stopCause === 'shutdown')).toBe(true)
    // Nothing restarts afterwards.
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(5)
  })

  it('kills what is left when the timeout runs out (`daemon_stopped`), a dependency still waiting its turn included', async () => {
    // web ignores its stop signal: db is never asked to stop before the deadline kills both.
    const h = harness((unit) => (unit.name === 'web' ? {stopTakesMs: Number.POSITIVE_INFINITY} : {stopTakesMs: 100}))
    await booted(h, units(chain))
    await h.advance(1000)
    const t = h.clock.now()
    let finished: number | undefined
    void h.sup.shutdown(2000).then(() => (finished = h.clock.now()))
    await h.advance(1999)
    expect(h.runs.live().map((p) => p.service).sort()).toEqual(['db', 'web', 'web'])
    expect(h.runs.of('db')[0].stopRequestedAt).toBeUndefined()
    await h.advance(1)
    await settle()
    expect(finished! - t).toBe(2000)
    expect(h.runs.live()).toEqual([])
    const reasons = Object.fromEntries(h.runs.processes.map((p) => [`${p.service}#${p.instance}`, p.endReason]))
    expect(reasons).toEqual({'db#0': 'daemon_stopped', 'web#0': 'daemon_stopped', 'web#1': 'daemon_stopped', 'api#0': 'stopped', 'solo#0': 'stopped'})
    expect(h.runs.processes.filter((p) => p.killedAt !== undefined).map((p) => p.killedAt! - t)).toEqual([2000, 2000, 2000])
  })

  it('an instance that exits on its own while it waits its turn is not restarted: stopped, nothing armed', async () => {
    const h = harness((unit) => (unit.name === 'api' ? {stopTakesMs: 1000} : {}))
    await booted(h, units(chain))
    await h.advance(1000)
    const done = h.sup.shutdown(10_000)
    await h.advance(100)
    const db = h.runs.of('db')[0]
    expect(db.stopRequestedAt).toBeUndefined()
    db.exit(1)
    await settle()
    expect(h.sup.state('db')!.status).toBe('stopped')
    await h.advance(1000)
    await done
    expect(h.clock.pending()).toBe(0)
    expect(h.runs.processes).toHaveLength(5)
  })

  it('resolves at once with nothing running; a pending restart is not launched', async () => {
    const h = harness(by({exitAfterMs: 0}))
    await booted(h, units('[services.web]\nrun = "x"\nrestart_delay = "1s"\n'))
    await h.advance(10)
    await h.sup.shutdown(5000)
    await h.advance(60_000)
    expect(h.runs.processes).toHaveLength(1)
    expect(h.sup.state('web')!.status).toBe('stopped')
  })

  it('during a boot-time dependency wait: boot() settles with the shutdown and the dependent never starts', async () => {
    const h = harness()
    const {boot} = await booted(h, units('[services.db]\nrun = "x"\nhealthy_after = "60s"\n[services.web]\nrun = "x"\ndepends_on = ["db"]\n'))
    let bootDone = false
    void boot.then(() => (bootDone = true))
    await h.advance(1000)
    await h.sup.shutdown(5000)
    await settle()
    // The daemon awaits boot() before it exits: it must not hang for 2 × 60 s + 30 s.
    expect(bootDone).toBe(true)
    await h.advance(600_000)
    expect(h.runs.of('web')).toHaveLength(0)
  })
})

describe('reload', () => {
  const base = '[services.keep]\nrun = "x"\n[services.change]\nrun = "x"\ninstances = 2\n[services.gone]\nrun = "x"\n[services.held]\nrun = "x"\n'

  it('a changed service restarts, a removed one stops, an added one starts, an operator-stopped one stays stopped', async () => {
    const h = harness()
    await booted(h, units(base))
    await h.advance(1000)
    await h.sup.stop('held')
    const before = new Map(h.runs.processes.map((p) => [`${p.service}#${p.instance}`, p]))
    const next = units('[services.keep]\nrun = "x"\n[services.change]\nrun = "y"\ninstances = 2\n[services.held]\nrun = "y"\n[services.added]\nrun = "x"\ninstances = 2\n')
    await h.advance(1000)
    const t = h.clock.now()
    await h.sup.reload(next, new Set(['change', 'held', 'added']))
    await settle()

    // unchanged: the same process
    expect(h.runs.of('keep')).toEqual([before.get('keep#0')])
    expect(before.get('keep#0')!.alive).toBe(true)
    // changed: old instances stopped (cause reload), new ones in the same slots with the new definition
    const change = h.runs.of('change')
    expect(change.slice(0, 2).map((p) => [p.stopCause, p.endReason])).toEqual([
      ['reload', 'stopped'],
      ['reload', 'stopped'],
    ])
    expect(change.slice(2).map((p) => [p.instance, p.launchedAt - t, p.spec.script])).toEqual([
      [0, 0, 'y'],
      [1, 0, 'y'],
    ])
    // removed: stopped, forgotten
    expect(h.runs.of('gone').map((p) => [p.stopCause, p.endReason])).toEqual([['reload', 'stopped']])
    expect(h.sup.state('gone')).toBeUndefined()
    // added: started
    expect(h.runs.of('added').map((p) => [p.instance, p.launchedAt - t])).toEqual([
      [0, 0],
      [1, 0],
    ])
    // operator-stopped and changed: still stopped, until started by hand
    expect(h.runs.of('held')).toHaveLength(1)
    expect(h.sup.state('held')!.status).toBe('stopped')
    await h.advance(60_000)
    expect(h.runs.of('held')).toHaveLength(1)
    expect(h.sup.start('held')).toBe('started')
    await settle()
    expect(h.runs.of('held').at(-1)!.spec.script).toBe('y')
  })

  it('a removed service never starts again, not even from a start still waiting for a stop to finish', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\n[services.other]\nrun = "x"\n'))
    const stopping = h.sup.stop('web')
    await h.advance(100)
    h.sup.start('web')
    const reloading = h.sup.reload(units('[services.other]\nrun = "x"\n'), new Set())
    await h.advance(60_000)
    await Promise.all([stopping, reloading])
    expect(h.runs.of('web')).toHaveLength(1)
    expect(h.sup.state('web')).toBeUndefined()
  })

  it('a start that comes in while a changed service is being restarted by the reload: one new instance per slot', async () => {
    const h = harness(by({stopTakesMs: 500}))
    await booted(h, units('[services.web]\nrun = "x"\ninstances = 2\n'))
    const reloading = h.sup.reload(units('[services.web]\nrun = "y"\ninstances = 2\n'), new Set(['web']))
    await h.advance(100)
    h.sup.start('web')
    await h.advance(1000)
    await reloading
    expect(h.runs.processes.map((p) => [p.instance, p.launchedAt - T0, p.spec.script])).toEqual([
      [0, 0, 'x'],
      [1, 0, 'x'],
      [0, 500, 'y'],
      [1, 500, 'y'],
    ])
    expect(h.sup.state('web')!.instances.map((i) => i.run_id)).toEqual(h.runs.processes.slice(2).map((p) => p.run.record.id))
  })

  it('an added service with autostart = false stays stopped; a changed FATAL one starts afresh', async () => {
    const h = harness((unit) => (unit.run === 'crash' ? {exitAfterMs: 0} : {}))
    await booted(h, units('[services.web]\nrun = "crash"\nstart_retries = 0\n'))
    await h.advance(10)
    expect(h.sup.state('web')!.status).toBe('fatal')
    await h.sup.reload(units('[services.web]\nrun = "fixed"\nstart_retries = 0\n[services.lazy]\nrun = "x"\nautostart = false\n'), new Set(['web', 'lazy']))
    await settle()
    expect(h.runs.of('lazy')).toHaveLength(0)
    expect(h.sup.state('lazy')!.status).toBe('stopped')
    expect(h.runs.of('web').map((p) => p.spec.script)).toEqual(['crash', 'fixed'])
    expect(h.sup.state('web')!.status).toBe('starting')
  })

  it('a changed instance count takes effect: slots 0..N−1 of the new definition', async () => {
    const h = harness()
    await booted(h, units('[services.up]\nrun = "x"\ninstances = 2\n[services.down]\nrun = "x"\ninstances = 3\n'))
    await h.advance(1000)
    await h.sup.reload(units('[services.up]\nrun = "x"\ninstances = 3\n[services.down]\nrun = "x"\ninstances = 1\n'), new Set(['up', 'down']))
    await settle()
    expect(h.runs.live('up').map((p) => p.instance)).toEqual([0, 1, 2])
    expect(h.runs.live('down').map((p) => p.instance)).toEqual([0])
    expect(h.sup.state('up')!.instances.map((i) => i.index)).toEqual([0, 1, 2])
    expect(h.sup.state('down')!.instances.map((i) => i.index)).toEqual([0])
  })
})

describe('service.state events', () => {
  it('carry the state at each change: starting → running → backoff → starting → running', async () => {
    const h = harness((_u, _i, nth) => (nth === 0 ? {exitAfterMs: 3000} : {}))
    await booted(h, units('[services.web]\nrun = "x"\nhealthy_after = "1s"\nrestart_delay = "500ms"\n'))
    await h.advance(10_000)
    const states = h.events.filter((e) => e.name === 'web').map((e) => e.state!)
    // Consecutive duplicates squeezed: one event per change is enough for listeners.
    const statuses = states.map((s) => `${s.status}:${s.instances[0].status}:${s.instances[0].restarts}`).filter((s, i, a) => s !== a[i - 1])
    expect(statuses).toEqual(['starting:starting:0', 'running:running:0', 'backoff:backoff:1', 'starting:starting:1', 'running:running:0'])
    // The last event is the current state.
    expect(states.at(-1)).toEqual(h.sup.state('web'))
    expect(states.at(-1)!.instances[0].run_id).toBe(h.runs.processes[1].run.record.id)
  })

  it('a FATAL instance and an operator stop are announced', async () => {
    const h = harness(by({exitAfterMs: 0}))
    await booted(h, units('[services.web]\nrun = "x"\nstart_retries = 0\n[services.other]\nrun = "x"\nrestart = "never"\n'))
    await h.advance(10)
    expect(h.events.filter((e) => e.name === 'web').at(-1)!.state).toEqual({status: 'fatal', instances: [{index: 0, status: 'fatal', pid: null, run_id: null, restarts: 0}]})
    h.events.length = 0
    await h.sup.stop('web')
    expect(h.events.map((e) => [e.name, e.state?.status])).toEqual([['web', 'stopped']])
  })
})

describe('in a cluster: an instance runs only while this node holds its slot (grant, revoke)', () => {
  const web = units('[services.web]\nrun = "x"\ninstances = 3\nhealthy_after = "0s"\ngraceful_stop = "5s"\nrestart_delay = "1s"\n')

  it('boot starts nothing; a grant starts that instance alone, and state lists only this node\'s', async () => {
    const h = harness(undefined, {placed: true})
    await booted(h, web)
    expect(h.runs.processes).toEqual([])
    expect(h.sup.state('web')).toEqual({status: 'running', instances: []}) // none here: the service runs elsewhere
    expect(h.sup.grant('web', 1)).toBe(true)
    expect(h.sup.grant('web', 7)).toBe(false)
    expect(h.sup.grant('nope', 0)).toBe(false)
    await settle()
    expect(h.runs.processes.map((p) => p.instance)).toEqual([1])
    expect(h.sup.state('web')!.instances.map((i) => [i.index, i.status])).toEqual([[1, 'running']])
    expect(h.sup.healthy('web')).toBe(true)
  })

  it('revoke "stop": the ladder, ended `stopped` for the lease, and no restart until granted again', async () => {
    const h = harness(() => ({stopTakesMs: 300}), {placed: true})
    await booted(h, web)
    h.sup.grant('web', 0)
    await settle()
    const t = h.clock.now()
    let gone: number | undefined
    void h.sup.revoke('web', 0, 'stop').then(() => (gone = h.clock.now()))
    await h.advance(300)
    await settle()
    expect(gone! - t).toBe(300)
    const [proc] = h.runs.processes
    expect(proc.signals).toEqual(['SIGTERM'])
    expect(proc.endReason).toBe('stopped')
    expect(proc.run.record.message).toContain("lease")
    await h.advance(10_000)
    expect(h.runs.processes).toHaveLength(1)
    h.sup.grant('web', 0)
    await settle()
    expect(h.runs.processes).toHaveLength(2)
  })

  it('revoke "kill": SIGKILL at once, even for a process that ignores its stop signal', async () => {
    const h = harness(() => ({stopTakesMs: Number.POSITIVE_INFINITY}), {placed: true})
    await booted(h, web)
    h.sup.grant('web', 2)
    await settle()
    const t = h.clock.now()
    await h.sup.revoke('web', 2, 'kill')
    const [proc] = h.runs.processes
    expect(proc.killedAt).toBe(t)
    expect(proc.signals).toEqual(['SIGKILL'])
    expect(proc.endReason).toBe('stopped')
  })

  it('a "kill" during the ladder cuts it short', async () => {
    const h = harness(() => ({stopTakesMs: Number.POSITIVE_INFINITY}), {placed: true})
    await booted(h, web)
    h.sup.grant('web', 0)
    await settle()
    void h.sup.revoke('web', 0, 'stop')
    await h.advance(1000)
    await h.sup.revoke('web', 0, 'kill')
    expect(h.runs.processes[0].signals).toEqual(['SIGTERM', 'SIGKILL'])
    expect(h.runs.processes[0].killedAt! - T0).toBe(1000)
  })

  it('a revoke during a restart delay cancels the restart', async () => {
    const h = harness(() => ({exitAfterMs: 100}), {placed: true})
    await booted(h, web)
    h.sup.grant('web', 0)
    await h.advance(100) // exits; restart armed for 1 s later
    expect(h.sup.state('web')!.instances[0].status).toBe('backoff')
    await h.sup.revoke('web', 0, 'stop')
    await h.advance(10_000)
    expect(h.runs.processes).toHaveLength(1)
    expect(h.sup.state('web')!.instances).toEqual([])
  })

  it('a grant for an operator-stopped service starts nothing until `start`', async () => {
    const h = harness(undefined, {placed: true})
    await booted(h, web)
    await h.sup.stop('web')
    expect(h.sup.held('web')).toBe(true)
    h.sup.grant('web', 0)
    await settle()
    expect(h.runs.processes).toEqual([])
    h.sup.start('web')
    await settle()
    expect(h.runs.processes.map((p) => p.instance)).toEqual([0]) // only the granted one
  })
})
