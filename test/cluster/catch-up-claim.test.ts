import {afterEach, expect, it} from 'vitest'
import {type CatchUpRecords, claimCatchUp} from '../../src/cluster/catch-up-claim.js'
import type {ClusterDb} from '../../src/cluster/db.js'
import {claimTick, registerTasks} from '../../src/cluster/ledger.js'
import {closeDbs, clusterDb, endUnstarted, migratedDb, pendingRun} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'
import {M, at, cron} from '../support/schedules.js'

afterEach(closeDbs)

const T0 = at('2026-03-01T12:00:00Z')
const task = (policy: 'latest' | 'all' | 'skip', cap = 100, limits: {max_concurrent?: number; on_overlap?: 'queue' | 'skip'} = {}) => ({
  name: 'sweep',
  schedule: cron('*/10 * * * *'),
  catch_up: policy,
  max_catch_up_runs: cap,
  max_concurrent: limits.max_concurrent ?? 100,
  on_overlap: limits.on_overlap ?? ('queue' as const),
  queue_max: 100,
})
const me = (node: string) => ({node, incarnation: '00000000-0000-4000-8000-000000000001'})
const records: CatchUpRecords = {
  run: (scheduledAt) => pendingRun('sweep', {triggered_by: 'catch_up', scheduled_at: new Date(scheduledAt).toISOString()}),
  missed: (plan) => endUnstarted(pendingRun('sweep', {triggered_by: 'cron', scheduled_at: new Date(plan.latestMissed!).toISOString()}), 'missed', `${plan.missed} missed`),
}
const claim = (db: ClusterDb, policy: 'latest' | 'all' | 'skip', now: number, node: string, limits?: Parameters<typeof task>[2]) =>
  claimCatchUp(db, task(policy, 100, limits), now, me(node), records, endUnstarted)

async function outage(db: ClusterDb, lastTick: number) {
  await registerTasks(db, ['sweep'])
  await claimTick(db, 'sweep', lastTick, 'old')
}

/** Every ledger row of the task past the outage, and the run stored for it (catch-up run or `missed` record). */
async function ticksAndRuns(db: ClusterDb) {
  const {rows} = await db.query<{at: Date; node: string; runs: string[]}>(
    `SELECT l.scheduled_at AS at, l.node, array_remove(array_agg(r.triggered_by || ':' || coalesce(r.end_reason, r.status) ORDER BY r.id), NULL) AS runs
     FROM sched.fire_ledger l LEFT JOIN sched.runs r ON r.task_name = l.task AND r.scheduled_at = l.scheduled_at
     WHERE l.node <> 'old' GROUP BY l.scheduled_at, l.node ORDER BY l.scheduled_at`,
  )
  return rows.map((r) => ({at: r.at.getTime(), node: r.node, runs: r.runs}))
}

describePg('catch-up through the ledger: a missed tick is caught up once, not once per node', () => {
  it('three nodes boot together after an outage: one claims every missed tick and admits its runs, the others find nothing', async () => {
    const {url, db} = await migratedDb()
    await outage(db, T0)
    const now = T0 + 65 * M // ticks 12:10 … 13:00 were missed: 6
    const claims = await Promise.all(['a', 'b', 'c'].map((n) => claim(clusterDb(url), 'all', now, n)))
    const winners = claims.filter((c) => c.missed)
    expect(winners).toHaveLength(1)
    expect(winners[0].plan.missed).toBe(6)
    expect(winners[0].admitted.map((a) => Date.parse(a.run.scheduled_at!))).toEqual([1, 2, 3, 4, 5, 6].map((k) => T0 + 10 * k * M))
    expect(winners[0].admitted.every((a) => a.decision.action === 'start' && a.run.node === winners[0].missed!.node)).toBe(true)
    // The others saw the anchor moved by the winner: nothing missed.
    expect(claims.filter((c) => !c.missed).map((c) => [c.plan.missed, c.admitted.length])).toEqual([[0, 0], [0, 0]])
  })

  it('every tick it claims has its run, stored in the same transaction: the ledger and the run records agree', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    await claim(db, 'all', T0 + 35 * M, 'a')
    expect(await ticksAndRuns(db)).toEqual([
      {at: T0 + 10 * M, node: 'a', runs: ['catch_up:pending']},
      {at: T0 + 20 * M, node: 'a', runs: ['catch_up:pending']},
      // The latest missed tick holds the `missed` record too (written first: it explains the runs).
      {at: T0 + 30 * M, node: 'a', runs: ['cron:missed', 'catch_up:pending']},
    ])
  })

  it('a claim that fails part-way leaves nothing: no tick claimed, no run, and the next boot catches up', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    let made = 0
    // The second run's record cannot be made: the transaction rolls back as a kill would leave it.
    const failing: CatchUpRecords = {...records, run: (t) => (++made === 2 ? ((): never => { throw new Error('killed') })() : records.run(t))}
    await expect(claimCatchUp(db, task('all'), T0 + 35 * M, me('a'), failing, endUnstarted)).rejects.toThrow('killed')
    expect(await ticksAndRuns(db)).toEqual([])
    expect((await db.query('SELECT 1 FROM sched.runs')).rowCount).toBe(0)
    const again = await claim(db, 'all', T0 + 35 * M, 'b')
    expect(again.admitted).toHaveLength(3)
  })

  it('catch-up runs pass admission like any run: beyond max_concurrent they queue', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    const c = await claim(db, 'all', T0 + 35 * M, 'a', {max_concurrent: 1})
    expect(c.admitted.map((a) => a.decision.action)).toEqual(['start', 'queue', 'queue'])
    expect((await db.query('SELECT 1 FROM sched.queue')).rowCount).toBe(2)
  })

  it('"latest" claims the newest missed tick; a node booting later finds nothing missed', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    const first = await claim(db, 'latest', T0 + 35 * M, 'a')
    expect(first.admitted.map((a) => a.run.scheduled_at)).toEqual([new Date(T0 + 30 * M).toISOString()])
    expect(first.plan.missed).toBe(3)
    expect(first.missed).toBeDefined()
    const later = await claim(db, 'latest', T0 + 36 * M, 'b')
    expect(later.admitted).toEqual([])
    expect(later.missed).toBeUndefined()
  })

  it('"skip" starts nothing but records the miss once, with the claim of the tick that moves the anchor', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    const first = await claim(db, 'skip', T0 + 25 * M, 'a')
    expect(first.admitted).toEqual([])
    expect(first.missed).toMatchObject({end_reason: 'missed', node: 'a'})
    expect(await ticksAndRuns(db)).toEqual([{at: T0 + 20 * M, node: 'a', runs: ['cron:missed']}])
    expect((await claim(db, 'skip', T0 + 25 * M, 'b')).plan.missed).toBe(0)
  })

  it('a tick that a live node fired on its own schedule is not caught up again', async () => {
    const {db} = await migratedDb()
    await outage(db, T0)
    await claimTick(db, 'sweep', T0 + 10 * M, 'live') // fired normally by a node that was up
    const c = await claim(db, 'all', T0 + 25 * M, 'a')
    expect(c.admitted.map((a) => Date.parse(a.run.scheduled_at!))).toEqual([T0 + 20 * M])
  })

  it('a task the cluster has never fired is anchored when the cluster first saw it: nothing is missed on the first boot', async () => {
    const {db} = await migratedDb()
    const seen = await registerTasks(db, ['sweep'])
    expect((await claim(db, 'all', seen.get('sweep')!, 'a')).plan.missed).toBe(0)
    // Later, with no tick ever fired, the ticks since then were missed.
    expect((await claim(db, 'all', seen.get('sweep')! + 25 * M, 'a')).plan.missed).toBeGreaterThanOrEqual(2)
  })
})
