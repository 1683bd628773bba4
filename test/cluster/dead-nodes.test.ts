import {afterEach, expect, it} from 'vitest'
import {admitRun, claimQueued} from '../../src/cluster/admission.js'
import {endPreviousIncarnation, reapDeadNodes} from '../../src/cluster/dead-nodes.js'
import {joinCluster, newIncarnation} from '../../src/cluster/nodes.js'
import {type Owner, getRun, saveRun} from '../../src/cluster/runs.js'
import {closeDbs, clusterDb, endUnstarted, migratedDb, pendingRun, started} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'

afterEach(closeDbs)

const LEASE = 10_000
const unit = {name: 'job', on_overlap: 'queue' as const, max_concurrent: 2, queue_max: 100}

async function join(db: Parameters<typeof joinCluster>[0], name: string, incarnation = newIncarnation()): Promise<Owner> {
  await joinCluster(db, {name, incarnation, advertise: null, configHash: 'h', version: '0', host: 'box', stateDir: `/s/${name}`, pid: 1}, LEASE)
  return {node: name, incarnation}
}

describePg('dead nodes: their runs end crashed exactly once, their unstarted work goes to others', () => {
  it('after a node\'s lease expires, two reapers at once end each of its running runs once', async () => {
    const {url, db} = await migratedDb()
    const a = await join(db, 'a')
    const b = await join(db, 'b')
    const c = await join(db, 'c')
    const one = await admitRun(db, unit, pendingRun('job'), a, endUnstarted)
    const two = await admitRun(db, unit, pendingRun('job'), a, endUnstarted)
    await saveRun(db, started(one.run), a)
    // `two` was claimed by a but its process never started; a third run waits in the queue.
    const three = await admitRun(db, unit, pendingRun('job'), a, endUnstarted)
    expect(three.decision.action).toBe('queue')

    expect(await db.transaction((sql) => reapDeadNodes(sql, b))).toEqual([]) // a is alive
    await db.query("UPDATE sched.nodes SET expires_at = now() - interval '1 millisecond' WHERE name = 'a'") // a was killed -9 a lease ago

    const [byB, byC] = await Promise.all([clusterDb(url).transaction((sql) => reapDeadNodes(sql, b)), clusterDb(url).transaction((sql) => reapDeadNodes(sql, c))])
    const all = [...byB, ...byC]
    expect(all.flatMap((r) => r.crashed.map((x) => x.id))).toEqual([one.run.id])
    expect(all.flatMap((r) => r.requeued)).toEqual([two.run.id])
    const crashed = await getRun(db, one.run.id)
    expect(crashed).toMatchObject({status: 'ended', end_reason: 'crashed', node: 'a'})
    expect(crashed?.message).toMatch(/^node a stopped renewing its lease \(last seen .*\); ended by node [bc]$/)

    // Nothing twice: a third reaper finds nothing, and the dead node's own late write is refused.
    expect(await db.transaction((sql) => reapDeadNodes(sql, c))).toEqual([])
    expect(await saveRun(db, {...started(one.run), status: 'ended', end_reason: 'success'}, a)).toBe(false)

    // The unstarted run is back at the head of the queue, before the one that was queued after it.
    expect((await claimQueued(db, unit, b)).map((r) => [r.id, r.node])).toEqual([[two.run.id, 'b'], [three.run.id, 'b']])
  })

  it('a node back under its name ends what its previous life left and gets the records to kill orphans by', async () => {
    const {db} = await migratedDb()
    const before = await join(db, 'a')
    const run = await admitRun(db, unit, pendingRun('job'), before, endUnstarted)
    await saveRun(db, {...started(run.run, 4321), process_start: '99'}, before)
    const after: Owner = {node: 'a', incarnation: newIncarnation()}
    const joined = await joinCluster(db, {name: 'a', incarnation: after.incarnation, advertise: null, configHash: 'h', version: '0', host: 'box', stateDir: '/s/a', pid: 2}, LEASE)
    expect(joined.previousIncarnation).toBe(before.incarnation)
    const orphans = await db.transaction((sql) => endPreviousIncarnation(sql, after, joined.previousIncarnation!))
    expect(orphans.map((r) => [r.id, r.pid, r.process_start, r.end_reason, r.message])).toEqual([[run.run.id, 4321, '99', 'crashed', 'node a restarted while the run was going']])
  })
})
