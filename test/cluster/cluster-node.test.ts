import {afterEach, expect, it} from 'vitest'
import {admitRun} from '../../src/cluster/admission.js'
import {type ClusterEvents, ClusterNode, type JoinedNode} from '../../src/cluster/cluster-node.js'
import type {Reaped} from '../../src/cluster/dead-nodes.js'
import {acquireSlot, type HeldLease, listSlots} from '../../src/cluster/leases.js'
import {listNodes} from '../../src/cluster/nodes.js'
import {getRun, saveRun} from '../../src/cluster/runs.js'
import {closeDbs, endUnstarted, freshUrlWithProxy, MemoryLogger, migratedDb, pendingRun, started} from '../support/cluster.js'
import {FakeClock} from '../support/fake-clock.js'
import {describePg} from '../support/postgres.js'
import {until} from '../support/sandbox.js'

const S = 1e9
const nodes: ClusterNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await closeDbs()
})

interface Heard {
  lost: HeldLease[]
  fenced: number
  reaped: Reaped[]
}

async function start(url: string, name: string, options: {stateDir?: string; clock?: FakeClock} = {}): Promise<JoinedNode & {heard: Heard; clock: FakeClock}> {
  const heard: Heard = {lost: [], fenced: 0, reaped: []}
  const events: ClusterEvents = {leasesLost: (l) => heard.lost.push(...l), fenced: () => heard.fenced++, reaped: (r) => heard.reaped.push(...r)}
  const clock = options.clock ?? new FakeClock(Date.now())
  const joined = await ClusterNode.start({
    settings: {url, node: name, lease: 3 * S},
    clock,
    logger: new MemoryLogger(),
    identity: {advertise: null, configHash: 'h', version: '0.1.0', host: 'box', stateDir: options.stateDir ?? `/srv/${name}`, pid: process.pid},
    units: ['job', 'web'],
    events,
  })
  nodes.push(joined.node)
  return {...joined, heard, clock}
}

describePg('ClusterNode: membership, heartbeat, leases and reaping on the injected clock', () => {
  it('joins (migrating the schema), beats every third of a lease, and leaves cleanly', async () => {
    const {url, db} = await migratedDb()
    const a = await start(url, 'a')
    expect(a.firstSeen.has('job')).toBe(true)
    expect(a.node.healthy).toBe(true)
    const before = (await listNodes(db)).nodes[0].last_seen
    a.clock.advance(1000)
    await until(async () => (await listNodes(db)).nodes[0].last_seen > before, 5000, 'a heartbeat from the timer')
    await a.node.stop()
    expect((await listNodes(db)).nodes[0]).toMatchObject({name: 'a', live: false})
  })

  it('a slot the database gave to another node is reported lost at the next beat', async () => {
    const {url, db} = await migratedDb()
    const a = await start(url, 'a')
    const token = (await acquireSlot(db, 'web', '0', a.node.me, 3000))!
    a.node.leases.acquired({service: 'web', slot: '0', token}, a.clock.now())
    a.clock.advance(1) // the beat is sent after the acquisition was answered (LeaseBook.renewed)
    await a.node.beat()
    expect(a.heard.lost).toEqual([])
    await db.query("UPDATE sched.slots SET node = 'b', token = token + 1")
    await a.node.beat()
    expect(a.heard.lost.map((l) => [l.service, l.slot, l.token])).toEqual([['web', '0', token]])
    expect(a.node.leases.verdicts(a.clock.now(), 3000, () => 0).map((v) => v.action)).toEqual(['kill'])
  })

  it('a node whose name was taken over is fenced: it says so once and claims nothing more', async () => {
    const {url} = await migratedDb()
    const first = await start(url, 'a', {stateDir: '/srv/shared'})
    expect(await first.node.claimTick('job', 1000)).toBe(true)
    await start(url, 'a', {stateDir: '/srv/shared'}) // the same host and state directory: a restart
    await first.node.beat()
    expect(first.heard.fenced).toBe(1)
    expect(first.node.healthy).toBe(false)
    expect(await first.node.claimTick('job', 2000)).toBe(false)
  })

  it('a live node ends the runs of a node whose lease expired, and requeues what it had not started', async () => {
    const {url, db} = await migratedDb()
    const a = await start(url, 'a')
    const b = await start(url, 'b')
    const unit = {name: 'job', on_overlap: 'queue' as const, max_concurrent: 1, queue_max: 10}
    const run = await admitRun(db, unit, pendingRun('job'), a.node.me, endUnstarted)
    await saveRun(db, started(run.run), a.node.me)
    await b.node.beat()
    expect(b.heard.reaped).toEqual([])
    await db.query("UPDATE sched.nodes SET expires_at = now() - interval '1 millisecond' WHERE name = 'a'") // a was kill -9ed a lease ago
    await b.node.beat()
    expect(b.heard.reaped.map((r) => [r.node, r.crashed.map((x) => x.id)])).toEqual([['a', [run.run.id]]])
    expect((await getRun(db, run.run.id))?.end_reason).toBe('crashed')
  })

  it('with the database cut off it claims no tick; its heartbeat resumes when it is back', async () => {
    const {url, proxy} = await freshUrlWithProxy()
    try {
      const a = await start(proxy.via(url), 'a')
      expect(await a.node.claimTick('job', 1000)).toBe(true)
      await proxy.cut()
      expect(await a.node.claimTick('job', 2000)).toBe(false)
      expect(a.node.healthy).toBe(false)
      await proxy.restore()
      a.clock.advance(250)
      await until(() => a.node.healthy, 5000, 'the database to be seen again')
      expect(await a.node.claimTick('job', 2000)).toBe(true)
    } finally {
      await proxy.close()
    }
  })

  it('a clean stop frees its slots at once', async () => {
    const {url, db} = await migratedDb()
    const a = await start(url, 'a')
    await acquireSlot(db, 'web', '0', a.node.me, 3000)
    await a.node.stop()
    expect((await listSlots(db)).slots.map((s) => s.live)).toEqual([false])
  })
})
