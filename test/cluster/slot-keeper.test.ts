import {afterEach, expect, it} from 'vitest'
import {ClusterNode} from '../../src/cluster/cluster-node.js'
import {acquireSlot, listSlots} from '../../src/cluster/leases.js'
import {type InstanceHost, SlotKeeper} from '../../src/cluster/slot-keeper.js'
import {loadConfigText} from '../../src/config/load.js'
import type {Unit} from '../../src/core/types.js'
import {closeDbs, MemoryLogger, migratedDb} from '../support/cluster.js'
import {FakeClock} from '../support/fake-clock.js'
import {describePg} from '../support/postgres.js'
import {settle} from '../support/fake-launcher.js'
import {until} from '../support/sandbox.js'

/**
 * The SlotKeeper against a real database, with the supervisor replaced by a host that notes what
 * it is told, and each node on its own fake clock (leases expire by the database's clock; the
 * guard's verdicts by the node's).
 */

const S = 1e9
const LEASE_MS = 3000
const keepers: SlotKeeper[] = []
const nodes: ClusterNode[] = []
afterEach(async () => {
  for (const k of keepers.splice(0)) k.stop()
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await closeDbs()
})

function services(toml: string): Unit[] {
  const result = loadConfigText(toml, '/tmp/sched-keeper-test/sched.toml')
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return [...result.config.units]
}

class NotingHost implements InstanceHost {
  readonly said: string[] = []
  stopped = new Set<string>()
  grant(service: string, index: number): boolean {
    this.said.push(`grant ${service}#${index}`)
    return true
  }
  async revoke(service: string, index: number, how: 'stop' | 'kill'): Promise<void> {
    this.said.push(`${how} ${service}#${index}`)
  }
  held(service: string): boolean {
    return this.stopped.has(service)
  }
}

async function keeper(url: string, name: string, units: () => readonly Unit[]) {
  const clock = new FakeClock(Date.now())
  const {node} = await ClusterNode.start({
    settings: {url, node: name, lease: (LEASE_MS / 1000) * S},
    clock,
    logger: new MemoryLogger(),
    identity: {advertise: null, configHash: 'h', version: '0.1.0', host: 'box', stateDir: `/srv/${name}`, pid: process.pid},
    units: ['web', 'agent'],
    events: {leasesLost: (lost) => k.lost(lost), fenced: () => k.fenced(), reaped: () => undefined},
  })
  nodes.push(node)
  const host = new NotingHost()
  const k: SlotKeeper = new SlotKeeper({node, clock, logger: new MemoryLogger(), services: units, firstSeen: () => undefined, host})
  keepers.push(k)
  return {node, clock, host, keeper: k}
}

const WEB = services('[services.web]\nrun = "x"\ninstances = 2\ngraceful_stop = "10s"\n[services.agent]\nrun = "x"\nplacement = "every_node"\n')

describePg('SlotKeeper: this node\'s share of the service slots', () => {
  it('each node takes the slots it is preferred for and its own every_node slot; a dead node\'s slot goes to a live one', async () => {
    const {url, db} = await migratedDb()
    const a = await keeper(url, 'a', () => WEB)
    const b = await keeper(url, 'b', () => WEB)
    await a.keeper.poke()
    await b.keeper.poke()
    expect(a.host.said.sort()).toEqual(['grant agent#0', 'grant web#0'])
    expect(b.host.said.sort()).toEqual(['grant agent#0', 'grant web#1'])
    const {slots} = await listSlots(db)
    expect(slots.map((s) => `${s.service}/${s.slot}=${s.node}`)).toEqual(['agent/a=a', 'agent/b=b', 'web/0=a', 'web/1=b'])

    // b dies: its heartbeat and leases run out (by the database's clock).
    await db.query("UPDATE sched.nodes SET expires_at = now() - interval '1 ms' WHERE name = 'b'")
    await db.query("UPDATE sched.slots SET expires_at = now() - interval '1 ms' WHERE node = 'b'")
    await a.keeper.poke()
    expect(a.host.said.slice(2)).toEqual(['grant web#1']) // not b's every_node slot
  })

  it('the guard: no renewal for a while starts the ladder (a quarter lease before the deadline), without the database', async () => {
    const {url} = await migratedDb()
    const a = await keeper(url, 'a', () => WEB)
    await a.keeper.poke()
    a.keeper.start()
    a.host.said.length = 0
    // The node's beat renews every second; without a database it would not. Stop it.
    await a.node.db.close()
    // Deadline: confirmed + 3000 − 300 (margin) = 2700; the ladder 750 before it.
    a.clock.advance(1949)
    await settle()
    expect(a.host.said).toEqual([])
    a.clock.advance(1)
    await settle()
    expect(a.host.said.sort()).toEqual(['stop agent#0', 'stop web#0', 'stop web#1'])
  })

  it('a lease the beat reports lost is killed at once; the slot is not released (it is someone else\'s)', async () => {
    const {url, db} = await migratedDb()
    const a = await keeper(url, 'a', () => WEB)
    await a.keeper.poke()
    expect(a.host.said.sort()).toEqual(['grant agent#0', 'grant web#0', 'grant web#1']) // the only live node
    await db.query("UPDATE sched.slots SET node = 'z', token = token + 100 WHERE service = 'web' AND slot = '1'")
    a.clock.advance(1)
    await a.node.beat()
    await settle()
    expect(a.host.said.slice(3)).toEqual(['kill web#1'])
    expect(a.node.leases.get('web', '1')).toBeUndefined()
    const {slots} = await listSlots(db)
    expect(slots.find((s) => s.service === 'web' && s.slot === '1')?.node).toBe('z')
  })

  it('an operator-stopped service takes no slots; a service removed by a reload gives its slots back', async () => {
    const {url, db} = await migratedDb()
    let units = WEB
    const a = await keeper(url, 'a', () => units)
    a.host.stopped.add('agent')
    await a.keeper.poke()
    expect(a.host.said).toEqual(['grant web#0', 'grant web#1']) // the only live node: both are its
    units = WEB.filter((u) => u.name !== 'web')
    await a.keeper.poke()
    await settle()
    expect(a.host.said.slice(2)).toEqual(['stop web#0', 'stop web#1'])
    // Released (with their tokens) once the instances are gone.
    await until(async () => (await listSlots(db)).slots.every((s) => !s.live), 5000, 'web\'s slots released')
  })

  it('a slot the database still has as this node\'s (a previous life, a failed release) is released', async () => {
    const {url, db} = await migratedDb()
    const a = await keeper(url, 'a', () => [])
    await acquireSlot(db, 'old', '0', {node: 'a', incarnation: '00000000-0000-4000-8000-000000000001'}, LEASE_MS)
    await a.keeper.poke()
    const {slots} = await listSlots(db)
    expect(slots.map((s) => [s.service, s.live])).toEqual([['old', false]])
  })
})
