import {afterEach, expect, it} from 'vitest'
import type {ClusterDb} from '../../src/cluster/db.js'
import {claimTick, pruneLedger, registerTasks} from '../../src/cluster/ledger.js'
import {closeDbs, clusterDb, migratedDb} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'
import {M, at} from '../support/schedules.js'

afterEach(closeDbs)

const T0 = at('2026-03-01T12:00:00Z')

async function ledger(db: ClusterDb) {
  const {rows} = await db.query<{task: string; scheduled_at: Date; node: string}>('SELECT task, scheduled_at, node FROM sched.fire_ledger ORDER BY task, scheduled_at')
  return rows.map((r) => `${r.task} ${r.scheduled_at.toISOString()} ${r.node}`)
}

describePg('fire ledger: each tick claimed once, cluster-wide', () => {
  it('the first claim of a (task, tick) wins; every later one, by any node, is refused', async () => {
    const {db} = await migratedDb()
    expect(await claimTick(db, 'backup', T0, 'a')).toBe(true)
    expect(await claimTick(db, 'backup', T0, 'b')).toBe(false)
    expect(await claimTick(db, 'backup', T0, 'a')).toBe(false)
    expect(await claimTick(db, 'backup', T0 + 1, 'b')).toBe(true)
    expect(await claimTick(db, 'report', T0, 'b')).toBe(true)
    expect(await ledger(db)).toEqual(['backup 2026-03-01T12:00:00.000Z a', 'backup 2026-03-01T12:00:00.001Z b', 'report 2026-03-01T12:00:00.000Z b'])
  })

  it('three nodes racing for 200 ticks: each tick has exactly one winner', async () => {
    const {url} = await migratedDb()
    const nodes = ['a', 'b', 'c'].map((name) => ({name, db: clusterDb(url, {poolSize: 4})}))
    const ticks = Array.from({length: 200}, (_, i) => T0 + i * 1000)
    const wins = await Promise.all(nodes.map(async ({name, db}) => (await Promise.all(ticks.map((t) => claimTick(db, 'every-second', t, name)))).filter(Boolean).length))
    expect(wins.reduce((a, b) => a + b, 0)).toBe(200)
    expect(await ledger(nodes[0].db)).toHaveLength(200)
  })

  it('registerTasks gives every node the same first-seen time (the common anchor of @every)', async () => {
    const {url} = await migratedDb()
    const first = await registerTasks(clusterDb(url), ['a', 'b'])
    const second = await registerTasks(clusterDb(url), ['b', 'a', 'c'])
    expect(second.get('a')).toBe(first.get('a'))
    expect(second.get('b')).toBe(first.get('b'))
    expect(second.get('c')).toBeGreaterThanOrEqual(first.get('a')!)
  })

  it('pruning keeps each task\'s newest tick: it is the catch-up anchor', async () => {
    const {db} = await migratedDb()
    for (const [task, t] of [['a', T0], ['a', T0 + M], ['a', T0 + 2 * M], ['b', T0]] as const) await claimTick(db, task, t, 'n')
    expect(await pruneLedger(db, T0 + 10 * M)).toBe(2)
    expect(await ledger(db)).toEqual(['a 2026-03-01T12:02:00.000Z n', 'b 2026-03-01T12:00:00.000Z n'])
  })
})
