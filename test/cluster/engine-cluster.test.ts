import {afterEach, expect, it} from 'vitest'
import {ClusterLink, LEDGER_PRUNE_EVERY_MS} from '../../src/cluster/cluster-link.js'
import {ClusterNode} from '../../src/cluster/cluster-node.js'
import {loadConfigText} from '../../src/config/load.js'
import type {Unit} from '../../src/core/types.js'
import {ClusterFeed} from '../../src/engine/cluster-feed.js'
import {Control} from '../../src/engine/control.js'
import {CronFires} from '../../src/engine/cron-fires.js'
import {JitterGate} from '../../src/engine/jitter-gate.js'
import {RunOwner, type TriggerResult} from '../../src/engine/run-owner.js'
import {unitStates} from '../../src/engine/unit-state.js'
import type {Supervisor} from '../../src/engine/supervisor.js'
import {StateLayout} from '../../src/state/layout.js'
import type {RunStore} from '../../src/state/runs.js'
import type {UnitBooks} from '../../src/state/unit-books.js'
import {closeDbs, clusterDb, freshUrlWithProxy, MemoryLogger} from '../support/cluster.js'
import {FakeClock} from '../support/fake-clock.js'
import {type Behaviour, FakeLauncher, settle} from '../support/fake-launcher.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {until} from '../support/sandbox.js'

/**
 * The engine's own code (CronFires, RunOwner, ClusterFeed) on nodes sharing one real
 * PostgreSQL, with fake processes on a fake clock: a tick is run by one node, catch-up happens
 * once cluster-wide, admission and the queue hold across nodes.
 */

const S = 1e9
const links: ClusterLink[] = []
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.stop()))
  await closeDbs()
})

// The books are the file-based anchor; in a cluster the ledger is, so they are not looked at here.
const NO_BOOKS = {update: () => undefined} as unknown as UnitBooks

async function node(url: string, name: string, toml: string, clock: FakeClock, behaviour: Behaviour = {exitAfterMs: 1000, exitCode: 0}) {
  const loaded = loadConfigText(toml, '/tmp/sched-engine-cluster/sched.toml')
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'))
  const {config} = loaded
  const units = new Map(config.units.map((u) => [u.name, u as Unit]))
  const logger = new MemoryLogger()
  const joined = await ClusterNode.start({
    settings: {url, node: name, lease: 30 * S},
    clock,
    logger,
    identity: {advertise: null, configHash: 'h', version: 'test', host: 'box', stateDir: `/srv/${name}`, pid: process.pid},
    units: [...units.keys()],
    events: {leasesLost: () => undefined, fenced: () => undefined, reaped: () => undefined},
  })
  const link = new ClusterLink(joined.node, new Map(joined.firstSeen), {url, clock, logger, startsCluster: joined.startsCluster})
  links.push(link)
  const launcher = new FakeLauncher(clock)
  launcher.behaviour = () => behaviour
  const unit = (n: string) => units.get(n)
  const owner = new RunOwner({clock, logger, records: link.records, launcher, layout: new StateLayout('/nonexistent'), unit, secrets: () => ({}), shutdownTimeout: () => 10 * S, cluster: link})
  launcher.attach(owner)
  const fires = new CronFires({clock, logger, owner, books: NO_BOOKS, gate: new JitterGate(clock), cluster: link})
  await link.listen(new ClusterFeed({cluster: link, owner, logger, unit}))
  return {name, owner, launcher, fires, link, config, units, unit: (n: string) => units.get(n)!, logger}
}

type EngineNode = Awaited<ReturnType<typeof node>>

/** Every launch of `task` on any node, in launch order. */
const launched = (nodes: readonly EngineNode[], task: string) =>
  nodes.flatMap((n) => n.launcher.of(task).map((p) => ({node: n.name, run: p.spec.runId, at: p.launchedAt}))).sort((x, y) => x.at - y.at)
const ok = (r: TriggerResult) => {
  if (!r.ok) throw new Error(`refused: ${r.message}`)
  return r
}

/** Two nodes whose processes run until stopped, and the operator's verbs on node b. */
async function operatorNodes(toml: string) {
  const url = await freshDatabase()
  const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
  const [a, b] = [await node(url, 'a', toml, clock, {}), await node(url, 'b', toml, clock, {})]
  const control = new Control({owner: b.owner, supervisor: {} as Supervisor, store: {} as RunStore, unit: b.unit, cluster: b.link, now: () => clock.now()})
  return {a, b, clock, control}
}

describePg('the engine in a cluster', () => {
  it('a cron tick computed by every node starts one run, on the node whose claim landed', async () => {
    const url = await freshDatabase()
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
    const toml = '[tasks.job]\ncron = "* * * * *"\nrun = "x"\nmax_concurrent = 5\n'
    const nodes = [await node(url, 'a', toml, clock), await node(url, 'b', toml, clock), await node(url, 'c', toml, clock)]
    const at = Date.UTC(2026, 2, 1, 12, 1, 0)
    for (const tick of [at, at + 60_000]) await Promise.all(nodes.map((n) => n.fires.tick({unit: n.unit('job'), tick: {at: tick, kind: 'fire', wall: tick}, coalesced: 0})))
    // Every node has decided: the losers did nothing, the winners' runs are on their way.
    await until(() => launched(nodes, 'job').length === 2, 5000, 'both ticks launched')
    await settle()
    const db = clusterDb(url)
    const {rows: ledger} = await db.query<{scheduled_at: Date; node: string}>('SELECT scheduled_at, node FROM sched.fire_ledger ORDER BY scheduled_at')
    const {rows: runs} = await db.query<{scheduled_at: Date; node: string}>("SELECT scheduled_at, node FROM sched.runs WHERE triggered_by = 'cron' ORDER BY scheduled_at")
    expect(ledger.map((r) => r.scheduled_at.getTime())).toEqual([at, at + 60_000])
    // The ledger and the run records agree: each tick's one run is on the node that claimed it.
    expect(runs.map((r) => [r.scheduled_at.getTime(), r.node])).toEqual(ledger.map((r) => [r.scheduled_at.getTime(), r.node]))
    expect(launched(nodes, 'job')).toHaveLength(2)
    // What /metrics counts as sched_cluster_tick_claims_total: two won in all, the other four lost.
    const claims = (result: 'won' | 'lost' | 'failed') => nodes.reduce((n, x) => n + x.link.claims[result], 0)
    expect([claims('won'), claims('lost'), claims('failed')]).toEqual([2, 4, 0])
  })

  it('every node answers the same counts: a task\'s state, the overview\'s strips and the live nodes are read from the cluster', async () => {
    const {a, b} = await operatorNodes('[tasks.long]\nrun = "x"\nmax_concurrent = 1\non_overlap = "queue"\nqueue_max = 10\n')
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push(ok(await a.owner.trigger({unit: 'long', source: 'api'})).run.id)
    await settle()
    // b runs none of them and its memory knows none; what it answers is the cluster's.
    expect(b.owner.occupancy('long')).toEqual({active: 0, queued: 0})
    const states = await unitStates([b.unit('long')], b.owner, {} as Supervisor, b.link)
    expect(states.get('long')).toEqual({status: 'running', active_runs: 1, queued: 2, instances: []})
    const strips = await b.link.recentRuns(['long', 'other'], 2)
    expect(strips.get('long')!.map((s) => [s.id, s.state])).toEqual([[ids[2], 'active'], [ids[1], 'active']])
    expect(strips.get('other')).toEqual([])
    expect((await b.link.reads()).liveNodes).toBe(2)
  })

  it('a dst_skipped tick is recorded once, by the node that claimed it', async () => {
    const url = await freshDatabase()
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
    const toml = '[tasks.job]\ncron = "* * * * *"\nrun = "x"\n'
    const nodes = [await node(url, 'a', toml, clock), await node(url, 'b', toml, clock)]
    const at = Date.UTC(2026, 2, 1, 12, 1, 0)
    await Promise.all(nodes.map((n) => n.fires.tick({unit: n.unit('job'), tick: {at, kind: 'dst_skipped', wall: at}, coalesced: 0})))
    const db = clusterDb(url)
    await until(async () => (await db.query("SELECT 1 FROM sched.runs WHERE end_reason = 'dst_skipped'")).rowCount === 1, 5000, 'the record')
    await Promise.all(nodes.map((n) => n.owner.flush()))
    expect((await db.query('SELECT node FROM sched.runs')).rowCount).toBe(1)
  })

  it('catch-up after the whole cluster was down happens once, not once per booting node', async () => {
    const url = await freshDatabase()
    const db = clusterDb(url)
    const toml = '[tasks.job]\ncron = "@every 60s"\nrun = "x"\ncatch_up = "all"\nmax_catch_up_runs = 10\nmax_concurrent = 5\n'
    // The cluster first saw the task 3½ minutes before the nodes boot again: `@every` counts from
    // there on every node, so three ticks were missed.
    const boot = Date.now()
    const clock = new FakeClock(boot)
    const nodes = [await node(url, 'a', toml, clock), await node(url, 'b', toml, clock)]
    await db.query("UPDATE sched.tasks SET first_seen_at = now() - interval '210 seconds'")
    const nodesAgain = [await node(url, 'a2', toml, clock), await node(url, 'b2', toml, clock)]
    await Promise.all(nodesAgain.map((n) => n.fires.catchUpInCluster(n.unit('job'), n.config.schedules.get('job')!, clock.now(), boot)))
    await until(() => launched(nodesAgain, 'job').length === 3, 5000, 'three catch-up runs')
    // The `missed` record is written on its own, after the runs' admissions.
    await Promise.all(nodesAgain.map((n) => n.owner.flush()))
    const {rows} = await db.query<{triggered_by: string; end_reason: string | null}>('SELECT triggered_by, end_reason FROM sched.runs ORDER BY id')
    expect(rows.filter((r) => r.end_reason === 'missed')).toHaveLength(1)
    expect(rows.filter((r) => r.triggered_by === 'catch_up')).toHaveLength(3)
    expect(launched([...nodes, ...nodesAgain], 'job')).toHaveLength(3)
  })

  it('max_concurrent and the FIFO queue hold across nodes: triggers on any node run one at a time, each once', async () => {
    const url = await freshDatabase()
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
    const toml = '[tasks.job]\nrun = "x"\nmax_concurrent = 1\non_overlap = "queue"\n'
    const nodes = [await node(url, 'a', toml, clock), await node(url, 'b', toml, clock), await node(url, 'c', toml, clock)]
    const outcomes = []
    for (let i = 0; i < 6; i++) outcomes.push(ok(await nodes[i % 3].owner.trigger({unit: 'job', source: 'api'})).outcome)
    expect(outcomes).toEqual(['started', 'queued', 'queued', 'queued', 'queued', 'queued'])
    for (let i = 1; i <= 6; i++) {
      await until(() => launched(nodes, 'job').length === i, 5000, `run ${i} launched`)
      await settle()
      expect(nodes.flatMap((n) => n.launcher.live('job'))).toHaveLength(1)
      clock.advance(1000)
    }
    const db = clusterDb(url)
    await until(async () => (await db.query("SELECT 1 FROM sched.runs WHERE status = 'ended'")).rowCount === 6, 5000, 'every run ended')
    const {rows} = await db.query<{id: string; end_reason: string; node: string}>('SELECT id, end_reason, node FROM sched.runs ORDER BY id')
    expect(rows.map((r) => r.end_reason)).toEqual(Array(6).fill('success'))
    // Started in admission order, each exactly once, wherever it was claimed.
    expect(launched(nodes, 'job').map((l) => l.run)).toEqual(rows.map((r) => r.id))
    expect(new Set(launched(nodes, 'job').map((l) => l.run)).size).toBe(6)
  })

  it('on_overlap = "skip" counts the runs of every node; "terminate" stops the run on the node that has it', async () => {
    const url = await freshDatabase()
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
    const toml = '[tasks.skipper]\nrun = "x"\non_overlap = "skip"\n[tasks.term]\nrun = "x"\non_overlap = "terminate"\n'
    const [a, b] = [await node(url, 'a', toml, clock, {}), await node(url, 'b', toml, clock, {})]
    expect(ok(await a.owner.trigger({unit: 'skipper', source: 'api'})).outcome).toBe('started')
    const skipped = ok(await b.owner.trigger({unit: 'skipper', source: 'api'}))
    expect(skipped).toMatchObject({outcome: 'skipped', run: {status: 'ended', end_reason: 'skipped'}})

    const first = ok(await a.owner.trigger({unit: 'term', source: 'api'}))
    expect(ok(await b.owner.trigger({unit: 'term', source: 'api'})).outcome).toBe('queued')
    // The victim, on node a, ends `stopped` by terminate; the newer run then starts somewhere, once.
    expect(await first.ended).toMatchObject({end_reason: 'stopped', message: expect.stringContaining('terminated by a newer run')})
    expect(a.launcher.of('term')).toHaveLength(1)
    await until(() => launched([a, b], 'term').length === 2, 5000, 'the newer run')
    expect(launched([a, b], 'term')).toHaveLength(2)
  })

  it('an operator stops any run from any node: a queued one ends at once, a running one is stopped by its node', async () => {
    const {a, b, control} = await operatorNodes('[tasks.job]\nrun = "x"\non_overlap = "queue"\n')
    const running = ok(await a.owner.trigger({unit: 'job', source: 'api'}))
    const queued = ok(await a.owner.trigger({unit: 'job', source: 'api'}))
    expect(queued.outcome).toBe('queued')
    expect(await control.stopRun(queued.run.id)).toEqual({ok: true, action: 'stopped', runs: [queued.run.id]})
    expect(await b.link.getRun(queued.run.id)).toMatchObject({status: 'ended', end_reason: 'stopped', message: 'stopped by an operator before it started'})
    expect(await control.stopRun(running.run.id)).toEqual({ok: true, action: 'stopped', runs: [running.run.id]})
    expect(await running.ended).toMatchObject({end_reason: 'stopped', message: expect.stringContaining('stopped by an operator')})
    await until(async () => (await b.link.getRun(running.run.id))?.status === 'ended', 5000, 'the stop recorded')
    expect(await control.stopRun(running.run.id)).toMatchObject({ok: false, refusal: 'conflict', message: `run ${running.run.id} is not running (stopped)`})
    expect(await control.stopRun('01NOSUCHRUN')).toMatchObject({ok: false, refusal: 'unknown'})
    // The queued run never started anywhere.
    expect(launched([a, b], 'job').map((l) => l.run)).toEqual([running.run.id])
  })

  it('sched stop TASK on any node stops the task\'s runs on every node and its queued runs', async () => {
    const {a, b, control} = await operatorNodes('[tasks.job]\nrun = "x"\nmax_concurrent = 2\non_overlap = "queue"\n')
    const onA = ok(await a.owner.trigger({unit: 'job', source: 'api'}))
    const onB = ok(await b.owner.trigger({unit: 'job', source: 'api'}))
    const queued = ok(await a.owner.trigger({unit: 'job', source: 'api'}))
    expect([onA.outcome, onB.outcome, queued.outcome]).toEqual(['started', 'started', 'queued'])
    const answer = await control.stopUnit('job')
    expect(answer).toMatchObject({ok: true, action: 'stopped', unit: 'job'})
    expect(answer.ok && [...answer.runs!].sort()).toEqual([onA.run.id, onB.run.id, queued.run.id].sort())
    expect(await onA.ended).toMatchObject({end_reason: 'stopped'})
    expect(await onB.ended).toMatchObject({end_reason: 'stopped'})
    await until(async () => (await b.link.unfinishedRuns('job')).length === 0, 5000, 'every run of the task ended')
    expect(launched([a, b], 'job')).toHaveLength(2)
  })

  it('a run that ends while the database is unreachable keeps its write until shutdown gives it up, and shutdown does not hang', async () => {
    const {url, proxy} = await freshUrlWithProxy()
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
    const a = await node(proxy.via(url), 'a', '[tasks.job]\nrun = "x"\n', clock)
    const run = ok(await a.owner.trigger({unit: 'job', source: 'api'}))
    await until(() => a.launcher.live('job').length === 1, 5000, 'the launch')
    await a.owner.flush()
    await proxy.cut()
    clock.advance(1000)
    expect(await run.ended).toMatchObject({end_reason: 'success'})
    let flushed = false
    const flushing = a.owner.flush().then(() => (flushed = true))
    // The write is kept, retried on the clock while the database is away.
    clock.advance(5000)
    await settle()
    expect(flushed).toBe(false)
    a.link.records.close()
    await flushing
    expect(a.logger.events()).toContain('cluster.write_given_up')
    // The database still has the run as running: a lease after this node stops, another ends it `crashed`.
    const db = clusterDb(url)
    expect((await db.query('SELECT status FROM sched.runs WHERE id = $1', [run.run.id])).rows).toEqual([{status: 'running'}])
    await proxy.restore()
    await proxy.close()
  })

  it('every node forgets fire-ledger rows older than a day, each hour, keeping each task\'s newest (the catch-up anchor)', async () => {
    const url = await freshDatabase()
    const clock = new FakeClock(Date.now())
    await node(url, 'a', '[tasks.job]\ncron = "* * * * * *"\nrun = "x"\n[tasks.rare]\ncron = "@yearly"\nrun = "x"\n', clock)
    const db = clusterDb(url)
    const day = 86_400_000
    const rows: [string, number][] = [['job', clock.now() - 3 * day], ['job', clock.now() - 2 * day], ['job', clock.now() - 1000], ['rare', clock.now() - 300 * day]]
    for (const [task, at] of rows) await db.query("INSERT INTO sched.fire_ledger (task, scheduled_at, node) VALUES ($1, $2, 'a')", [task, new Date(at)])
    clock.advance(LEDGER_PRUNE_EVERY_MS - 1)
    await settle()
    expect((await db.query('SELECT 1 FROM sched.fire_ledger')).rowCount).toBe(4)
    clock.advance(1)
    await until(async () => (await db.query('SELECT 1 FROM sched.fire_ledger')).rowCount === 2, 5000, 'the old rows pruned')
    const {rows: kept} = await db.query<{task: string; at: Date}>('SELECT task, scheduled_at AS at FROM sched.fire_ledger ORDER BY task')
    expect(kept.map((r) => [r.task, r.at.getTime()])).toEqual([rows[2], rows[3]])
  })

  it('a reload that removes a task ends its runs queued in the cluster `skipped`, on the node that reloads; the others find nothing left', async () => {
    const {a, b, clock} = await operatorNodes('[tasks.job]\nrun = "x"\non_overlap = "queue"\n')
    const running = ok(await a.owner.trigger({unit: 'job', source: 'api'}))
    const queued = [ok(await a.owner.trigger({unit: 'job', source: 'api'})), ok(await b.owner.trigger({unit: 'job', source: 'api'}))]
    expect(queued.map((q) => q.outcome)).toEqual(['queued', 'queued'])
    const told: string[] = []
    b.owner.on('run.ended', (r: {id: string}) => told.push(r.id))
    // Node b reloads a config without the task (as Daemon.reload does: the new units, then the drop).
    const message = 'its task was removed from the config by a reload'
    b.units.delete('job')
    await b.owner.dropQueue('job', message)
    expect(told).toEqual(queued.map((q) => q.run.id))
    for (const q of queued) expect(await b.link.getRun(q.run.id)).toMatchObject({status: 'ended', end_reason: 'skipped', message, node: null})
    // Node a reloads next: nothing is left to drop; its running run finishes under the old definition.
    a.units.delete('job')
    await a.owner.dropQueue('job', message)
    expect(await b.link.unfinishedRuns('job')).toEqual([running.run.id])
    a.owner.stopRun(running.run.id)
    clock.advance(1000)
    expect(await running.ended).toMatchObject({status: 'ended'})
    await settle()
    // No queued run of the removed task ever started, anywhere.
    expect(launched([a, b], 'job').map((l) => l.run)).toEqual([running.run.id])
  })

  it('a trigger while the database cannot be reached is refused (unavailable) and leaves no run', async () => {
    const {url, proxy} = await freshUrlWithProxy()
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12, 0, 0))
    const a = await node(proxy.via(url), 'a', '[tasks.job]\nrun = "x"\n', clock)
    await proxy.cut()
    const answer = await a.owner.trigger({unit: 'job', source: 'api'})
    expect(answer).toMatchObject({ok: false, refusal: 'unavailable'})
    expect(a.owner.occupancy('job')).toEqual({active: 0, queued: 0})
    expect(a.launcher.processes).toHaveLength(0)
    await proxy.restore()
    await proxy.close()
  })
})
