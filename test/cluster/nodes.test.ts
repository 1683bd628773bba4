import {afterEach, expect, it} from 'vitest'
import {type NodeIdentity, heartbeat, joinCluster, leaveCluster, listNodes, newIncarnation, nodeAddress} from '../../src/cluster/nodes.js'
import {closeDbs, clusterDb, migratedDb} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'

afterEach(closeDbs)

const LEASE = 10_000

const owner = (n: NodeIdentity) => ({node: n.name, incarnation: n.incarnation})

function identity(name: string, overrides: Partial<NodeIdentity> = {}): NodeIdentity {
  return {name, incarnation: newIncarnation(), advertise: `http://127.0.0.1:${9000 + name.length}`, configHash: 'h1', version: '0.1.0', host: 'box', stateDir: `/srv/${name}`, pid: 4242, ...overrides}
}

describePg('node registry and heartbeat', () => {
  it('a node joins, is listed live with what it announced, and leaves', async () => {
    const {db} = await migratedDb()
    const a = identity('a')
    const joined = await joinCluster(db, a, LEASE)
    expect(joined.previousIncarnation).toBeUndefined()
    const {nodes, dbNow} = await listNodes(db)
    expect(nodes).toHaveLength(1)
    expect(nodes[0]).toMatchObject({name: 'a', incarnation: a.incarnation, advertise: a.advertise, config_hash: 'h1', host: 'box', state_dir: '/srv/a', pid: 4242, live: true, skew_ms: null, left_at: null})
    expect(nodes[0].expires_at - nodes[0].last_seen).toBe(LEASE)
    expect(Math.abs(dbNow - nodes[0].last_seen)).toBeLessThan(5000)
    await leaveCluster(db, owner(a))
    expect((await listNodes(db)).nodes[0]).toMatchObject({live: false})
  })

  it('nodeAddress: where another node\'s API is, and whether it is live (the log proxy asks before it connects)', async () => {
    const {db} = await migratedDb()
    const a = identity('a')
    const quiet = identity('q', {advertise: null})
    await joinCluster(db, a, LEASE)
    await joinCluster(db, quiet, LEASE)
    expect(await nodeAddress(db, 'a')).toMatchObject({advertise: a.advertise, live: true})
    expect(await nodeAddress(db, 'q')).toMatchObject({advertise: null, live: true})
    expect(await nodeAddress(db, 'nobody')).toBe(undefined)
    await leaveCluster(db, owner(a))
    const left = await nodeAddress(db, 'a')
    expect(left).toMatchObject({live: false})
    expect(left!.last_seen).toBe((await listNodes(db)).nodes[0].last_seen)
  })

  it('a heartbeat extends the lease, publishes the config hash and skew, and measures the skew against the database clock', async () => {
    const {db} = await migratedDb()
    const a = identity('a')
    await joinCluster(db, a, LEASE)
    // A node whose clock runs 5 minutes ahead of the database's.
    const ahead = () => Date.now() + 300_000
    const beat = await heartbeat(db, owner(a), {leaseMs: LEASE, configHash: 'h2', skewMs: null}, ahead)
    expect(beat.ok).toBe(true)
    expect(beat.skewMs).toBeGreaterThan(299_000)
    expect(beat.skewMs).toBeLessThan(301_000)
    await heartbeat(db, owner(a), {leaseMs: LEASE, configHash: 'h2', skewMs: beat.skewMs}, ahead)
    expect((await listNodes(db)).nodes[0]).toMatchObject({config_hash: 'h2', skew_ms: beat.skewMs})
  })

  it('a name held by a live node elsewhere is refused, naming where', async () => {
    const {db} = await migratedDb()
    await joinCluster(db, identity('a', {host: 'box-1'}), LEASE)
    await expect(joinCluster(db, identity('a', {host: 'box-2'}), LEASE)).rejects.toThrow('node name "a" is in use by a live node on box-1 (state /srv/a, pid 4242)')
  })

  it('the same host and state directory take the name back at once (after kill -9): the old incarnation can no longer heartbeat', async () => {
    const {db} = await migratedDb()
    const before = identity('a')
    await joinCluster(db, before, LEASE)
    const after = identity('a')
    expect((await joinCluster(db, after, LEASE)).previousIncarnation).toBe(before.incarnation)
    expect((await heartbeat(db, owner(before), {leaseMs: LEASE, configHash: 'h1', skewMs: null}, Date.now)).ok).toBe(false)
    expect((await heartbeat(db, owner(after), {leaseMs: LEASE, configHash: 'h1', skewMs: null}, Date.now)).ok).toBe(true)
  })

  it('a name whose lease expired may be taken by another host', async () => {
    const {db} = await migratedDb()
    const old = identity('a', {host: 'box-1'})
    await joinCluster(db, old, LEASE)
    await db.query("UPDATE sched.nodes SET expires_at = now() - interval '1 second'") // its heartbeats stopped a lease ago
    expect((await listNodes(db)).nodes[0].live).toBe(false)
    expect((await joinCluster(db, identity('a', {host: 'box-2'}), LEASE)).previousIncarnation).toBe(old.incarnation)
  })

  it('run_on_start: of nodes starting together exactly one starts the cluster; a node joining a live cluster does not', async () => {
    const {url} = await migratedDb()
    const names = ['a', 'b', 'c', 'd', 'e']
    const joins = await Promise.all(names.map((n) => joinCluster(clusterDb(url), identity(n), LEASE)))
    expect(joins.filter((j) => j.startsCluster)).toHaveLength(1)
    const db = clusterDb(url)
    expect((await joinCluster(db, identity('late'), LEASE)).startsCluster).toBe(false)
  })

  it('run_on_start: once every other node has left or expired, the next node to join starts the cluster again (its own old name does not count)', async () => {
    const {db} = await migratedDb()
    const a = identity('a')
    const b = identity('b')
    expect((await joinCluster(db, a, LEASE)).startsCluster).toBe(true)
    expect((await joinCluster(db, b, LEASE)).startsCluster).toBe(false)
    await leaveCluster(db, owner(b))
    // a was killed: its heartbeats stopped a lease ago.
    await db.query("UPDATE sched.nodes SET expires_at = now() - interval '1 second' WHERE name = 'a'")
    expect((await joinCluster(db, identity('b'), LEASE)).startsCluster).toBe(true)
    // A node restarting under its own name while another is live joins a running cluster.
    expect((await joinCluster(db, identity('a'), LEASE)).startsCluster).toBe(false)
    // The same node restarting alone (its previous life still looks live) starts it again.
    await db.query("UPDATE sched.nodes SET left_at = now(), expires_at = now() WHERE name = 'b'")
    expect((await joinCluster(db, identity('a'), LEASE)).startsCluster).toBe(true)
  })
})
