import {describe, expect, it} from 'vitest'
import {loadConfigText} from '../../src/config/load.js'
import {createLogger} from '../../src/core/logger.js'
import type {Unit} from '../../src/core/types.js'
import {RunOwner, type TriggerRequest, type TriggerResult} from '../../src/engine/run-owner.js'
import {StateLayout} from '../../src/state/layout.js'
import {type RunRecord, newRunRecord} from '../../src/state/run-record.js'
import {type RunEntry, entryOf} from '../../src/state/runs.js'
import {FakeClock} from '../support/fake-clock.js'
import {type Behaviour, FakeLauncher, MemoryRecords, advance, settle} from '../support/fake-launcher.js'

/**
 * The run owner on a fake clock with fake processes (SPEC §3 runs and end reasons, §4.5
 * admission, retries, the stop ladder, timeouts, shutdown): every decision is the real code's,
 * every instant is asserted to the millisecond, and the record writes are checked in order.
 */

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0)

function harness(toml: string, behaviour?: FakeLauncher['behaviour'], makeRecords = (clock: FakeClock) => new MemoryRecords(clock)) {
  const loaded = loadConfigText(toml, '/tmp/sched-run-owner-test/sched.toml')
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => `${e.key}: ${e.message}`).join('\n'))
  const units = new Map(loaded.config.units.map((u) => [u.name, u as Unit]))
  const clock = new FakeClock(T0)
  const launcher = new FakeLauncher(clock)
  if (behaviour) launcher.behaviour = behaviour
  const records = makeRecords(clock)
  const owner = new RunOwner({
    clock,
    logger: createLogger('text', () => {}),
    records,
    launcher,
    layout: new StateLayout('/nonexistent'),
    unit: (name) => units.get(name),
    secrets: () => ({}),
    shutdownTimeout: () => 10e9,
  })
  launcher.attach(owner)
  const ended: RunRecord[] = []
  owner.on('run.ended', (r: RunRecord) => ended.push(r))
  const trigger = async (req: Partial<TriggerRequest> & {unit: string}): Promise<TriggerResult> => {
    const result = await owner.trigger({source: 'api', ...req})
    await settle()
    return result
  }
  return {clock, launcher, records, owner, ended, units, trigger, advance: (ms: number) => advance(clock, ms)}
}

const by = (b: Behaviour) => () => b
const ok = (r: TriggerResult) => {
  if (!r.ok) throw new Error(`refused: ${r.message}`)
  return r
}

describe('a run from trigger to final record', () => {
  it('is on disk as running before its process is launched, and ends with one final record', async () => {
    const h = harness('[tasks.a]\nrun = "x"\n', by({exitAfterMs: 250, exitCode: 0}))
    let writesAtLaunch: string[] = []
    const launch = h.launcher.launch.bind(h.launcher)
    h.launcher.launch = (spec, onEvent) => {
      writesAtLaunch = h.records.history(spec.runId)
      return launch(spec, onEvent)
    }
    const r = ok(await h.trigger({unit: 'a'}))
    expect(r.outcome).toBe('started')
    expect(writesAtLaunch).toEqual(['running'])
    await h.advance(250)
    const final = await r.ended
    expect(final).toMatchObject({status: 'ended', end_reason: 'success', exit_code: 0, duration_ms: 250, pid: 10_000, triggered_by: 'api'})
    await settle()
    // running, the pid 50 ms after the spawn, then the final record: nothing after it.
    expect(h.records.history(final.id)).toEqual(['running', 'running', 'ended:success'])
    expect(h.owner.get(final.id)).toBeUndefined()
  })

  it('is launched once its running record is durable, without waiting for the file; the trigger is answered once the file is written', async () => {
    // A journal that has synced the record but not yet written its own file.
    class FilesLater extends MemoryRecords {
      release?: () => void
      override async attempt(record: RunRecord, previous?: RunEntry, onDurable?: () => void): Promise<RunEntry> {
        onDurable?.()
        await new Promise<void>((resolve) => (this.release = resolve))
        return this.save(record, previous)
      }
    }
    const h = harness('[tasks.a]\nrun = "x"\n', by({exitAfterMs: 250, exitCode: 0}), (clock) => new FilesLater(clock))
    const records = h.records as FilesLater
    let answered = false
    const answer = h.owner.trigger({unit: 'a', source: 'api'}).then((r) => {
      answered = true
      return r
    })
    await settle()
    expect(h.launcher.processes).toHaveLength(1)
    expect(answered).toBe(false)
    records.release!()
    const r = ok(await answer)
    expect(r.outcome).toBe('started')
    expect(h.records.history(r.run.id)).toEqual(['running'])
    // The process reported its pid while the file was written: the answer is still the record
    // as recorded, the same whichever came first.
    expect(h.owner.get(r.run.id)?.record.pid).toBe(10_000)
    expect(r.run).toMatchObject({status: 'running', pid: null})
  })

  it('with a writer that has no earlier durable moment (no onDurable), is launched once the write is done', async () => {
    class WholeWrites extends MemoryRecords {
      override attempt(record: RunRecord, previous?: RunEntry): Promise<RunEntry> {
        return this.save(record, previous)
      }
    }
    const h = harness('[tasks.a]\nrun = "x"\n', by({exitAfterMs: 250, exitCode: 0}), (clock) => new WholeWrites(clock))
    const r = ok(await h.trigger({unit: 'a'}))
    expect(r.outcome).toBe('started')
    expect(h.launcher.processes).toHaveLength(1)
    await h.advance(250)
    expect(await r.ended).toMatchObject({end_reason: 'success'})
  })

  it('a process that cannot start ends failed, with the reason as its message', async () => {
    const h = harness('[tasks.a]\nrun = "x"\n', by({startError: 'working_dir /nope does not exist or is not a directory'}))
    const final = await ok(await h.trigger({unit: 'a'})).ended
    expect(final).toMatchObject({end_reason: 'failed', exit_code: null, pid: null, message: 'could not start: working_dir /nope does not exist or is not a directory'})
  })

  it('exit codes listed in exit_codes are a success; others, and signals, fail', async () => {
    const h = harness('[tasks.a]\nrun = "x"\nexit_codes = [0, 3]\nmax_concurrent = 3\n')
    const runs = await Promise.all([h.trigger({unit: 'a'}), h.trigger({unit: 'a'}), h.trigger({unit: 'a'})])
    h.launcher.processes[0].exit(3)
    h.launcher.processes[1].exit(4)
    h.launcher.processes[2].exit(null, 'SIGSEGV')
    const finals = await Promise.all(runs.map((r) => ok(r).ended))
    expect(finals.map((f) => [f.end_reason, f.exit_code, f.signal, f.message])).toEqual([
      ['success', 3, null, null],
      ['failed', 4, null, 'exited with code 4'],
      ['failed', null, 'SIGSEGV', 'killed by SIGSEGV'],
    ])
  })
})

describe('refusals create nothing', () => {
  it('unknown task, a service, api_trigger = false for manual sources, bad params: no record, no process', async () => {
    const h = harness(`
[tasks.locked]
run = "x"
api_trigger = false
[tasks.p]
run = "x"
[[tasks.p.parameters]]
key = "env"
kind = "env"
choices = ["prod", "dev"]
required = true
[services.s]
run = "x"
`)
    const results = await Promise.all([
      h.trigger({unit: 'nope'}),
      h.trigger({unit: 's'}),
      h.trigger({unit: 'locked', source: 'cli'}),
      h.trigger({unit: 'p', params: {env: 'staging'}}),
      h.trigger({unit: 'p'}),
    ])
    expect(results.map((r) => (r.ok ? r.outcome : r.refusal))).toEqual(['unknown', 'service', 'forbidden', 'params', 'params'])
    expect(h.records.writes).toEqual([])
    expect(h.launcher.processes).toEqual([])
    // The schedule still runs a task closed to manual triggers.
    expect(ok(await h.trigger({unit: 'locked', source: 'cron'})).outcome).toBe('started')
  })
})

describe('admission (SPEC §4.5)', () => {
  it('queue: runs beyond max_concurrent wait on disk as pending and start first in, first out as slots free', async () => {
    const h = harness('[tasks.q]\nrun = "x"\nmax_concurrent = 2\n')
    const results = []
    for (let i = 0; i < 5; i++) results.push(ok(await h.trigger({unit: 'q', source: i % 2 ? 'cron' : 'api'})))
    expect(results.map((r) => r.outcome)).toEqual(['started', 'started', 'queued', 'queued', 'queued'])
    expect(h.records.history(results[2].run.id)).toEqual(['pending'])
    expect(h.owner.occupancy('q')).toEqual({active: 2, queued: 3})
    h.launcher.processes[1].exit(0)
    await settle()
    expect(h.launcher.processes.map((p) => p.spec.runId)).toEqual([results[0].run.id, results[1].run.id, results[2].run.id])
    h.launcher.processes[0].exit(0)
    h.launcher.processes[2].exit(0)
    await settle()
    expect(h.launcher.processes.map((p) => p.spec.runId)).toEqual(results.map((r) => r.run.id))
    expect(h.launcher.live('q')).toHaveLength(2)
  })

  it('skip: at the limit a run is recorded skipped, never started', async () => {
    const h = harness('[tasks.s]\nrun = "x"\non_overlap = "skip"\n')
    ok(await h.trigger({unit: 's'}))
    const skipped = ok(await h.trigger({unit: 's'}))
    expect(skipped.outcome).toBe('skipped')
    expect(await skipped.ended).toMatchObject({end_reason: 'skipped', message: '1 run already active (max_concurrent = 1, on_overlap = "skip")'})
    expect(h.records.history(skipped.run.id)).toEqual(['ended:skipped'])
    expect(h.launcher.processes).toHaveLength(1)
  })

  it('queue_max: one more than the queue holds is recorded queue_full', async () => {
    const h = harness('[tasks.q]\nrun = "x"\nqueue_max = 2\n')
    const outcomes = []
    for (let i = 0; i < 4; i++) outcomes.push(ok(await h.trigger({unit: 'q'})).outcome)
    expect(outcomes).toEqual(['started', 'queued', 'queued', 'queue_full'])
  })

  it('terminate: the oldest run goes down its ladder and the new one starts once it exited, never two alive', async () => {
    const h = harness('[tasks.t]\nrun = "x"\non_overlap = "terminate"\ngraceful_stop = "2s"\n', by({stopTakesMs: 700}))
    const first = ok(await h.trigger({unit: 't'}))
    await h.advance(100)
    const second = ok(await h.trigger({unit: 't'}))
    expect(second.outcome).toBe('queued')
    expect(h.launcher.processes[0].signals).toEqual(['SIGTERM'])
    await h.advance(699)
    expect(h.launcher.live()).toHaveLength(1)
    expect(h.launcher.processes).toHaveLength(1)
    await h.advance(1)
    expect(await first.ended).toMatchObject({end_reason: 'stopped', message: 'terminated by a newer run (on_overlap = "terminate")'})
    expect(h.launcher.processes.map((p) => [p.spec.runId, p.launchedAt - T0])).toEqual([
      [first.run.id, 0],
      [second.run.id, 800],
    ])
  })
})

describe('stop ladder and timeout', () => {
  it('timeout: stop_signal at the timeout, SIGKILL after graceful_stop, ends timeout even though killed', async () => {
    const h = harness('[tasks.t]\nrun = "x"\ntimeout = "3s"\nstop_signal = "SIGINT"\ngraceful_stop = "1500ms"\n', by({stopTakesMs: Number.POSITIVE_INFINITY}))
    const r = ok(await h.trigger({unit: 't'}))
    await h.advance(2999)
    expect(h.launcher.processes[0].signals).toEqual([])
    await h.advance(1)
    expect(h.launcher.processes[0].signals).toEqual(['SIGINT'])
    await h.advance(1499)
    expect(h.launcher.processes[0].alive).toBe(true)
    await h.advance(1)
    expect(h.launcher.processes[0].signals).toEqual(['SIGINT', 'SIGKILL'])
    expect(await r.ended).toMatchObject({end_reason: 'timeout', signal: 'SIGKILL', duration_ms: 4500, message: 'timed out after 3s'})
  })

  it('graceful_stop = 0s: SIGKILL at once', async () => {
    const h = harness('[tasks.t]\nrun = "x"\ngraceful_stop = "0s"\n')
    const r = ok(await h.trigger({unit: 't'}))
    expect(h.owner.stopRun(r.run.id)).toBe('stopping')
    expect(h.launcher.processes[0].signals).toEqual(['SIGKILL'])
    expect(await r.ended).toMatchObject({end_reason: 'stopped', message: 'stopped by an operator'})
  })

  it('a stop that arrives before the process is known waits for it, then starts the ladder', async () => {
    const h = harness('[tasks.t]\nrun = "x"\n', by({startAfterMs: 40}))
    const r = ok(await h.trigger({unit: 't'}))
    expect(r.run.pid).toBeNull()
    expect(h.owner.stopRun(r.run.id)).toBe('stopping')
    expect(h.launcher.processes[0].signals).toEqual([])
    await h.advance(40)
    expect(h.launcher.processes[0].signals).toEqual(['SIGTERM'])
    expect(await r.ended).toMatchObject({end_reason: 'stopped', pid: 10_000})
  })

  it('a run stopped while its running record is being written never launches a process', async () => {
    const h = harness('[tasks.t]\nrun = "x"\n')
    let id = ''
    h.owner.once('run.created', (r: RunRecord) => (id = r.id))
    const result = h.owner.trigger({unit: 't', source: 'api'})
    expect(h.owner.stopRun(id)).toBe('stopping')
    const final = await ok(await result).ended
    expect(final).toMatchObject({end_reason: 'stopped', pid: null, exit_code: null})
    expect(h.launcher.processes).toEqual([])
  })

  it('a queued run stopped before it starts ends stopped without a process', async () => {
    const h = harness('[tasks.q]\nrun = "x"\n')
    ok(await h.trigger({unit: 'q'}))
    const queued = ok(await h.trigger({unit: 'q'}))
    expect(h.owner.stopRun(queued.run.id)).toBe('dequeued')
    expect(await queued.ended).toMatchObject({end_reason: 'stopped', duration_ms: 0, message: 'stopped by an operator before it started'})
    h.launcher.processes[0].exit(0)
    await settle()
    expect(h.launcher.processes).toHaveLength(1)
  })

  it('log_on_full = "kill_task": an overflow stops the run, which ends log_overflow', async () => {
    const h = harness('[tasks.l]\nrun = "x"\nlog_on_full = "kill_task"\n')
    const r = ok(await h.trigger({unit: 'l'}))
    const launch = h.launcher.processes[0]
    // The launcher reports the overflow as an event; what to do with it is the owner's call.
    ;(h.owner.get(r.run.id) as unknown as {onProcess(e: {type: 'overflow'}): void}).onProcess({type: 'overflow'})
    expect(launch.signals).toEqual(['SIGTERM'])
    expect(await r.ended).toMatchObject({end_reason: 'log_overflow'})
  })
})

describe('retries', () => {
  it('a failure is retried retry_attempts times with its backoff; each attempt links to the one before, same params and source', async () => {
    const h = harness(
      `
[tasks.r]
run = "x"
retry_attempts = 3
retry_delay = "1s"
retry_backoff = "exponential"
[[tasks.r.parameters]]
key = "region"
kind = "env"
default = "eu"
`,
      by({exitAfterMs: 100, exitCode: 2}),
    )
    const first = ok(await h.trigger({unit: 'r', source: 'cli', params: {region: 'us'}}))
    await h.advance(10_000)
    expect(h.launcher.launchTimes('r').map((t) => t - T0)).toEqual([0, 1100, 3200, 7300])
    const records = h.ended.filter((r) => r.task_name === 'r')
    expect(records.map((r) => [r.retry_attempt, r.triggered_by, r.params.region, r.end_reason])).toEqual([
      [0, 'cli', 'us', 'failed'],
      [1, 'cli', 'us', 'failed'],
      [2, 'cli', 'us', 'failed'],
      [3, 'cli', 'us', 'failed'],
    ])
    expect(records.slice(1).map((r, i) => r.retry_of_run_id === records[i].id)).toEqual([true, true, true])
    expect(records[0].id).toBe(first.run.id)
    expect(h.launcher.processes[3].spec.env.params.region).toBe('us')
  })

  it('a stopped run is not retried; a success ends the chain', async () => {
    const h = harness('[tasks.r]\nrun = "x"\nretry_attempts = 5\nretry_delay = "1s"\n', (_u, _i, nth) => (nth === 0 ? {exitAfterMs: 10, exitCode: 1} : {exitAfterMs: 10, exitCode: 0}))
    ok(await h.trigger({unit: 'r'}))
    await h.advance(5000)
    expect(h.ended.map((r) => r.end_reason)).toEqual(['failed', 'success'])
    const s = harness('[tasks.r]\nrun = "x"\nretry_attempts = 5\n')
    const run = ok(await s.trigger({unit: 'r'}))
    s.owner.stopRun(run.run.id)
    await s.advance(60_000)
    expect(s.ended.map((r) => r.end_reason)).toEqual(['stopped'])
  })
})

describe('shutdown', () => {
  it('stops active runs, kills what is alive at the deadline (daemon_stopped), leaves queued runs pending', async () => {
    const h = harness('[tasks.a]\nrun = "x"\n[tasks.b]\nrun = "x"\n', (unit) => (unit.name === 'a' ? {stopTakesMs: 300} : {stopTakesMs: Number.POSITIVE_INFINITY}))
    const a = ok(await h.trigger({unit: 'a'}))
    const b = ok(await h.trigger({unit: 'b'}))
    const queued = ok(await h.trigger({unit: 'b'}))
    const done = h.owner.shutdown(2000)
    await h.advance(2000)
    await done
    expect(await a.ended).toMatchObject({end_reason: 'stopped', message: 'stopped at daemon shutdown'})
    expect(await b.ended).toMatchObject({end_reason: 'daemon_stopped', signal: 'SIGKILL'})
    expect(h.records.history(queued.run.id)).toEqual(['pending'])
    expect(h.owner.get(queued.run.id)?.isEnded).toBe(false)
    expect((await h.owner.trigger({unit: 'a', source: 'api'})) as unknown).toMatchObject({ok: false, refusal: 'closing'})
  })
})

describe('what the daemon asks of it besides triggers', () => {
  it('resume: runs found pending at boot run first, in id order, before anything new', async () => {
    const h = harness('[tasks.q]\nrun = "x"\n')
    const old = (n: number): RunRecord => newRunRecord({id: `01JG0000000000000000000${n}0`, task_name: 'q', kind: 'task', triggered_by: 'cli', created_at: new Date(T0 - 1000).toISOString()})
    for (const n of [1, 2]) h.owner.resume(old(n), entryOf(old(n)))
    const fresh = ok(await h.trigger({unit: 'q'}))
    expect(fresh.outcome).toBe('queued')
    await settle()
    h.launcher.processes[0].exit(0)
    await settle()
    h.launcher.processes[1].exit(0)
    await settle()
    expect(h.launcher.processes.map((p) => p.spec.runId)).toEqual([old(1).id, old(2).id, fresh.run.id])
  })

  it('a reload: queued runs take the new definition, or end failed when their params no longer fit; a removed task drops its queue', async () => {
    const h = harness('[tasks.q]\nrun = "old"\n[[tasks.q.parameters]]\nkey = "n"\nkind = "env"\ndefault = "1"\n')
    ok(await h.trigger({unit: 'q'}))
    const keeps = ok(await h.trigger({unit: 'q', params: {n: '2'}}))
    const loaded = loadConfigText('[tasks.q]\nrun = "new"\n[[tasks.q.parameters]]\nkey = "n"\nkind = "env"\ntype = "number"\ndefault = "1"\n', '/tmp/x/sched.toml')
    if (!loaded.ok) throw new Error('config')
    h.units.set('q', loaded.config.units[0])
    h.owner.redefine(loaded.config.units[0])
    h.launcher.processes[0].exit(0)
    await settle()
    expect(h.launcher.processes.map((p) => p.spec.script)).toEqual(['old', 'new'])
    expect(h.launcher.processes[1].spec.runId).toBe(keeps.run.id)

    const bad = ok(await h.trigger({unit: 'q', params: {n: '3'}}))
    const loaded2 = loadConfigText('[tasks.q]\nrun = "new"\n[[tasks.q.parameters]]\nkey = "n"\nkind = "env"\nchoices = ["1"]\n', '/tmp/x/sched.toml')
    if (!loaded2.ok) throw new Error('config')
    h.owner.redefine(loaded2.config.units[0])
    expect(await bad.ended).toMatchObject({end_reason: 'failed'})
    expect((await bad.ended).message).toContain('its parameters no longer fit the reloaded task')

    const dropped = ok(await h.trigger({unit: 'q'}))
    h.owner.dropQueue('q', 'its task was removed from the config by a reload')
    expect(await dropped.ended).toMatchObject({end_reason: 'skipped', message: 'its task was removed from the config by a reload'})
  })

  it('recordEnded: a missed tick is one ended record with its scheduled time, no process', async () => {
    const h = harness('[tasks.c]\nrun = "x"\ncron = "* * * * *"\n')
    const rec = await h.owner.recordEnded(h.units.get('c')!, 'cron', 'missed', {scheduledAt: T0 - 60_000, message: '3 ticks missed while the daemon was down'})
    expect(rec).toMatchObject({status: 'ended', end_reason: 'missed', scheduled_at: new Date(T0 - 60_000).toISOString(), message: '3 ticks missed while the daemon was down'})
    expect(h.records.history(rec.id)).toEqual(['ended:missed'])
    expect(h.launcher.processes).toEqual([])
  })

  it('whenIdle waits for retries too', async () => {
    const h = harness('[tasks.r]\nrun = "x"\nretry_attempts = 1\nretry_delay = "2s"\n', by({exitAfterMs: 10, exitCode: 1}))
    ok(await h.trigger({unit: 'r'}))
    let idle = false
    void h.owner.whenIdle().then(() => (idle = true))
    await h.advance(1000)
    expect(idle).toBe(false)
    await h.advance(2000)
    expect(idle).toBe(true)
    expect(h.ended).toHaveLength(2)
  })
})
