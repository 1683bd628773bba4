import {afterEach, expect, it} from 'vitest'
import type {ClusterDb} from '../../src/cluster/db.js'
import {claimCatchUp, claimTick, pruneLedger, registerTasks} from '../../src/cluster/ledger.js'
import {closeDbs, clusterDb, migratedDb} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'
import {M, at, cron} from '../support/schedules.js'

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

describePg('catch-up through the ledger: a missed tick is caught up once, not once per node', () => {
  const task = (policy: 'latest' | 'all' | 'skip', cap = 100) => ({name: 'sweep', schedule: cron('*/10 * * * *'), policy, cap})

  async function outage(db: ClusterDb, lastTick: number) {
    await registerTasks(db, ['sweep'])
    await claimTick(db, 'sweep', lastTick, 'old')
  }

  it('three nodes boot together after an outage: one claims every missed tick, the others none', async () => {
    const {url, db} = await migratedDb()
    await outage(db, T0)
    const now = T0 + 65 * M // ticks 12:10 … 13:00 were missed: 6
    const claims = await Promise.all(['a', 'b', 'c'].map((n) => claimCatchUp(clusterDb(url), task('all'), now, n)))
    const winners = claims.filter((c) => c.recordMissed)
    expect(winners).toHaveLength(1)
    expect(winners[0].plan.missed).toBe(6)
    expect(winners[0].runs).toEqual([1, 2, 3, 4, 5, 6].map((k) => T0 + 10 * k * M))
    expect(claims.flatMap((c) => c.runs)).toHaveLength(6)
    // The others saw the anchor moved by the winner: nothing missed.
    expect(claims.filter((c) => !c.recordMissed).map((c) => c.plan.missed)).toEqual([0, 0])
  })

  it('"latest" claims the newest missed tick; a node booting later finds nothing missed', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    const first = await claimCatchUp(db, task('latest'), T0 + 35 * M, 'a')
    expect(first).toMatchObject({runs: [T0 + 30 * M], recordMissed: true})
    expect(first.plan.missed).toBe(3)
    const later = await claimCatchUp(db, task('latest'), T0 + 36 * M, 'b')
    expect(later).toMatchObject({runs: [], recordMissed: false})
  })

  it('"skip" starts nothing but records the miss once and moves the anchor', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    expect(await claimCatchUp(db, task('skip'), T0 + 25 * M, 'a')).toMatchObject({runs: [], recordMissed: true})
    expect((await claimCatchUp(db, task('skip'), T0 + 25 * M, 'b')).plan.missed).toBe(0)
  })

  it('a tick that a live node fired on its own schedule is not caught up again', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    await claimTick(db, 'sweep', T0 + 10 * M, 'live') // fired normally by a node that was up
    const claim = await claimCatchUp(db, task('all'), T0 + 25 * M, 'a')
    expect(claim.runs).toEqual([T0 + 20 * M])
  })

  it('a task the cluster has never fired is anchored when the cluster first saw it: nothing is missed on the first boot', async () => {
    const {db} = await migratedDb()
    const seen = await registerTasks(db, ['sweep'])
    expect((await claimCatchUp(db, task('all'), seen.get('sweep')!, 'a')).plan.missed).toBe(0)
    // Later, with no tick ever fired, the ticks since then were missed.
    expect((await claimCatchUp(db, task('all'), seen.get('sweep')! + 25 * M, 'a')).plan.missed).toBeGreaterThanOrEqual(2)
  })
})
