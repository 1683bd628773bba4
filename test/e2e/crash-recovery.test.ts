import {readFileSync, writeFileSync} from 'node:fs'
import {describe, expect} from 'vitest'
import {type Sandbox, alive, fixture, it, q, readPid, sleep, until, unwrap} from '../support/sandbox.js'

/**
 * The daemon's life cycle around running tasks (SPEC §3 `crashed`/`stopped`/`daemon_stopped`,
 * §7 boot and shutdown): a daemon killed with SIGKILL leaves orphans that the next boot kills
 * without running the task again; SIGTERM stops runs with their ladders within shutdown_timeout;
 * queued runs survive a restart and keep their order.
 */

/** A task running test/fixtures/orphans.sh: a leader and a `sleep` child, pids in files. */
const orphansTask = (b: Sandbox) => `[tasks.long]\nrun = ${q(`exec '${fixture('orphans.sh')}' '${b.dir.path}'`)}\n`

async function orphanPids(b: Sandbox): Promise<{leader: number; child: number}> {
  const [leader, child] = await until(() => {
    const l = readPid(b.path('leader'))
    const c = readPid(b.path('child'))
    return l !== undefined && c !== undefined && [l, c]
  }, 5000, 'the fixture to write its pids')
  b.pids.add(leader)
  b.pids.add(child)
  return {leader, child}
}

describe('a daemon killed with SIGKILL', () => {
  it('leaves its run\'s processes behind; the next boot kills them, ends the run `crashed` and does not run it again', async ({box}) => {
    const b = box.with(orphansTask)
    await b.start()
    const id = await b.trigger('long')
    const {leader, child} = await orphanPids(b)
    // The pid is added to the `running` record just after the spawn.
    await until(() => b.run('long', id)?.pid === leader, 2000, 'the record to carry the pid')
    expect(b.run('long', id)).toMatchObject({status: 'running'})

    await b.stop('SIGKILL')
    await sleep(200)
    expect(alive(leader)).toBe(true)
    expect(alive(child)).toBe(true)
    expect(b.run('long', id)).toMatchObject({status: 'running'})

    await b.start()
    // Recovery happens before the daemon announces itself.
    const run = b.run('long', id)!
    expect(run).toMatchObject({status: 'ended', end_reason: 'crashed', pid: leader})
    expect(run.message).toMatch(/^the daemon stopped unexpectedly while this run was running; killed (its orphaned process group|\d+ orphaned processes)$/)
    expect(Date.parse(run.ended_at!)).toBeGreaterThanOrEqual(Date.parse(run.started_at!))
    await until(() => !alive(leader) && !alive(child), 1000, 'the orphans to be gone')

    await sleep(500)
    expect(b.runs()).toHaveLength(1)
    const listed = await b.cli(['runs', 'long', '--status', 'crashed', '--json'])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({id, end_reason: 'crashed'})])
  })

  it('kills an orphan that outlived its group leader, found by the run id in its environment', async ({box}) => {
    const b = box.with(orphansTask)
    await b.start()
    const id = await b.trigger('long')
    const {leader, child} = await orphanPids(b)
    await b.stop('SIGKILL')
    // The leader exits after the crash; its `sleep` child carries on alone.
    writeFileSync(b.path('release'), '')
    await until(() => !alive(leader), 2000, 'the leader to exit')
    expect(alive(child)).toBe(true)

    await b.start()
    expect(b.run('long', id)).toMatchObject({status: 'ended', end_reason: 'crashed'})
    expect(b.run('long', id)!.message).toMatch(/^the daemon stopped unexpectedly while this run was running; killed /)
    await until(() => !alive(child), 1000, `orphan ${child} to be gone`)
    expect(b.runs()).toHaveLength(1)
  })
})

describe('a CLI waiting on a daemon that dies', () => {
  it('trigger --wait ends with exit 4 and says what happened, instead of waiting forever', async ({box}) => {
    const b = box.with(orphansTask)
    await b.start()
    const waiting = b.cli(['trigger', 'long', '--wait'])
    await orphanPids(b)
    await b.stop('SIGKILL')
    const res = await waiting
    expect(res.code).toBe(4)
    expect(unwrap(res.stderr)).toMatch(/the daemon \(pid \d+\) stopped before run \w+ ended/)
    expect(unwrap(res.stderr)).toContain('recorded crashed when a daemon starts again')
    // The next daemon ends the run crashed and kills what it left.
    await b.start()
    await until(() => b.runs('long')[0]?.end_reason === 'crashed', 5000, 'the run to be recorded crashed')
  })
})

describe('shutdown on SIGTERM', () => {
  it('stops a running task with its ladder (`stopped`) and exits 0 well within shutdown_timeout', async ({box}) => {
    const b = box.with((s) => `[daemon]\nshutdown_timeout = "5s"\n${orphansTask(s)}`)
    await b.start()
    const id = await b.trigger('long')
    const {leader, child} = await orphanPids(b)
    const t0 = Date.now()
    expect(await b.stop('SIGTERM')).toBe(0)
    expect(Date.now() - t0).toBeLessThan(2500)
    expect(b.run('long', id)).toMatchObject({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM', exit_code: null, message: 'stopped at daemon shutdown'})
    expect(await b.logText('long', id)).toContain('[sched] daemon shutting down; sending SIGTERM to the process group')
    await until(() => !alive(leader) && !alive(child), 1000, 'the run\'s processes to be gone')
  })

  it('kills a run still alive when shutdown_timeout runs out (`daemon_stopped`), before graceful_stop', async ({box}) => {
    const b = box.with(() => `[daemon]\nshutdown_timeout = "1s"\n[tasks.stubborn]\nrun = ${q(`exec '${fixture('ignore-term.sh')}'`)}\ngraceful_stop = "30s"\n`)
    await b.start()
    const id = await b.trigger('stubborn')
    const pid = await until(() => b.run('stubborn', id)?.pid ?? undefined, 5000, 'the run to start')
    b.pids.add(pid)
    await until(async () => (await b.logText('stubborn', id)).includes('ready'), 5000, 'the fixture to trap SIGTERM')
    const t0 = Date.now()
    expect(await b.stop('SIGTERM')).toBe(0)
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(900)
    expect(took).toBeLessThan(3000)
    expect(b.run('stubborn', id)).toMatchObject({
      status: 'ended',
      end_reason: 'daemon_stopped',
      signal: 'SIGKILL',
      exit_code: null,
      message: 'still running when shutdown_timeout (1s) ran out; killed',
    })
    const system = (await b.log('stubborn', id)).filter((l) => l.stream === 'system').map((l) => l.text)
    expect(system).toEqual(['[sched] daemon shutting down; sending SIGTERM to the process group (SIGKILL in 30s)', '[sched] daemon shutdown_timeout ran out; sending SIGKILL'])
    await until(() => !alive(pid), 1000, `run process ${pid} to be gone`)
  })

  it('leaves queued runs pending; the next boot runs them in FIFO order, after nothing else', async ({box}) => {
    const b = box.with((s) => `[tasks.t]
run = ${q(`exec '${fixture('track.sh')}'`)}
env = { TRACK = ${q(s.path('track'))}, RELEASE = ${q(s.path('release'))} }
`)
    writeFileSync(b.path('track'), '')
    const starts = () => readFileSync(b.path('track'), 'utf8').split('\n').filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[1])
    await b.start()
    const active = await b.trigger('t')
    await until(() => starts().length === 1, 5000, 'the first run to start')
    const second = await b.trigger('t')
    const third = await b.trigger('t')
    expect(await b.stop('SIGTERM')).toBe(0)
    expect(b.run('t', active)).toMatchObject({status: 'ended', end_reason: 'stopped'})
    for (const id of [second, third]) expect(b.run('t', id)).toMatchObject({status: 'pending', started_at: null, end_reason: null})

    writeFileSync(b.path('release'), '')
    await b.start()
    const runs = await until(() => {
      const all = b.runs('t')
      return all.every((r) => r.status === 'ended') && all
    }, 5000, 'the resumed runs to end')
    expect(runs.map((r) => [r.id, r.end_reason, r.triggered_by])).toEqual([
      [active, 'stopped', 'cli'],
      [second, 'success', 'cli'],
      [third, 'success', 'cli'],
    ])
    expect(starts()).toEqual([active, second, third])
    expect(Date.parse(b.run('t', third)!.started_at!)).toBeGreaterThanOrEqual(Date.parse(b.run('t', second)!.ended_at!))
  })
})
