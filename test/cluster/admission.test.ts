import {afterEach, expect, it} from 'vitest'
import {admitRun, admitTick, claimQueued, pendingStops, queuedTasks, stopClusterRun} from '../../src/cluster/admission.js'
import type {ClusterDb} from '../../src/cluster/db.js'
import {type Owner, getRun, saveRun} from '../../src/cluster/runs.js'
import type {OnOverlap} from '../../src/core/types.js'
import {closeDbs, clusterDb, endUnstarted, ended, migratedDb, pendingRun, started} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'

afterEach(closeDbs)

const A: Owner = {node: 'a', incarnation: '00000000-0000-4000-8000-00000000000a'}
const B: Owner = {node: 'b', incarnation: '00000000-0000-4000-8000-00000000000b'}
const C: Owner = {node: 'c', incarnation: '00000000-0000-4000-8000-00000000000c'}

const task = (on_overlap: OnOverlap, max_concurrent = 1, queue_max = 100) => ({name: 'job', on_overlap, max_concurrent, queue_max})

async function nodes(): Promise<{db: ClusterDb; as: Owner}[]> {
  const {url} = await migratedDb()
  return [A, B, C].map((as) => ({db: clusterDb(url), as}))
}

describePg('cluster admission: max_concurrent, on_overlap and queue_max hold across nodes', () => {
  it('a cron tick admitted by three nodes at once: one claims it and has its run, the others store nothing', async () => {
    const n = await nodes()
    const at = '2026-03-01T12:01:00.000Z'
    const results = await Promise.all(n.map((x) => admitTick(x.db, task('queue', 5), pendingRun('job', {triggered_by: 'cron', scheduled_at: at}), x.as, endUnstarted)))
    const won = results.filter((r) => r !== undefined)
    expect(won.map((r) => r.decision.action)).toEqual(['start'])
    const {rows: ledger} = await n[0].db.query<{node: string}>('SELECT node FROM sched.fire_ledger')
    const {rows: runs} = await n[0].db.query<{node: string; scheduled_at: Date}>('SELECT node, scheduled_at FROM sched.runs')
    expect(runs).toEqual([{node: ledger[0].node, scheduled_at: new Date(at)}])
    expect(ledger).toHaveLength(1)
  })

  it('three nodes admitting 12 runs at once under max_concurrent = 2: 2 start, 10 queue', async () => {
    const n = await nodes()
    const results = await Promise.all(Array.from({length: 12}, (_, i) => admitRun(n[i % 3].db, task('queue', 2), pendingRun('job'), n[i % 3].as, endUnstarted)))
    expect(results.filter((r) => r.decision.action === 'start')).toHaveLength(2)
    expect(results.filter((r) => r.decision.action === 'queue')).toHaveLength(10)
    // A run to start belongs to the node that admitted it; a queued one to no node yet.
    for (const [i, r] of results.entries()) expect(r.run.node).toBe(r.decision.action === 'start' ? n[i % 3].as.node : null)
    expect(await queuedTasks(n[0].db)).toEqual(['job'])
  })

  it('queue_max counts the cluster\'s queue: the one over it is recorded queue_full', async () => {
    const n = await nodes()
    const results = []
    for (let i = 0; i < 5; i++) results.push(await admitRun(n[i % 3].db, task('queue', 1, 3), pendingRun('job'), n[i % 3].as, endUnstarted))
    expect(results.map((r) => r.decision.action)).toEqual(['start', 'queue', 'queue', 'queue', 'queue_full'])
    const full = results[4].run
    expect(full).toMatchObject({status: 'ended', end_reason: 'queue_full', message: 'queue full (3 waiting, queue_max = 3)', node: null})
    expect(await getRun(n[0].db, full.id)).toEqual(full)
  })

  it('skip: a run on another node makes this one skipped', async () => {
    const n = await nodes()
    expect((await admitRun(n[0].db, task('skip'), pendingRun('job'), A, endUnstarted)).decision.action).toBe('start')
    const skipped = await admitRun(n[1].db, task('skip'), pendingRun('job'), B, endUnstarted)
    expect(skipped.run).toMatchObject({status: 'ended', end_reason: 'skipped', message: '1 run already active (max_concurrent = 1, on_overlap = "skip")'})
  })

  it('terminate: the oldest run, on whichever node runs it, is asked to stop; the new run waits its turn', async () => {
    const n = await nodes()
    const first = await admitRun(n[0].db, task('terminate'), pendingRun('job'), A, endUnstarted)
    const second = await admitRun(n[1].db, task('terminate'), pendingRun('job'), B, endUnstarted)
    expect(second.decision).toEqual({action: 'terminate', victim: first.run.id})
    expect(second.victim).toEqual({id: first.run.id, node: 'a'})
    expect(await pendingStops(n[0].db, A)).toEqual([{id: first.run.id, cause: 'terminate'}])
    expect(await pendingStops(n[1].db, B)).toEqual([])
    // A third one does not stop the run already stopping: it only queues.
    const third = await admitRun(n[2].db, task('terminate'), pendingRun('job'), C, endUnstarted)
    expect(third.decision).toEqual({action: 'terminate', victim: undefined})
    // Node a ends its run; now the queued ones can be claimed, in order, one at a time.
    expect(await saveRun(n[0].db, ended(started(first.run), 'stopped'), A)).toBe(true)
    expect((await claimQueued(n[2].db, task('terminate'), C)).map((r) => r.id)).toEqual([second.run.id])
  })
})

describePg('the queue: claimed first in, first out, never beyond max_concurrent', () => {
  it('claims in order only what fits, with the claimer as the owner', async () => {
    const n = await nodes()
    const runs = []
    for (let i = 0; i < 5; i++) runs.push((await admitRun(n[0].db, task('queue', 2), pendingRun('job'), A, endUnstarted)).run)
    expect(await claimQueued(n[1].db, task('queue', 2), B)).toEqual([]) // two running already
    await saveRun(n[0].db, ended(started(runs[0])), A)
    const claimed = await claimQueued(n[1].db, task('queue', 2), B)
    expect(claimed.map((r) => [r.id, r.node, r.status])).toEqual([[runs[2].id, 'b', 'pending']])
    await saveRun(n[0].db, ended(started(runs[1])), A)
    await saveRun(n[1].db, ended(started(claimed[0])), B)
    expect((await claimQueued(n[2].db, task('queue', 2), C)).map((r) => r.id)).toEqual([runs[3].id, runs[4].id])
    expect(await queuedTasks(n[0].db)).toEqual([])
  })

  it('three nodes claiming 60 queued runs concurrently: each run claimed once, never more than max_concurrent at a time', async () => {
    const n = await nodes()
    const unit = task('queue', 3, 1000)
    const ids: string[] = []
    for (let i = 0; i < 63; i++) ids.push((await admitRun(n[0].db, unit, pendingRun('job'), A, endUnstarted)).run.id)
    // The first three started on node a; end them so the queue can flow.
    for (const id of ids.slice(0, 3)) await saveRun(n[0].db, ended(started((await getRun(n[0].db, id))!)), A)
    const seen: string[] = []
    let running = 0
    let peak = 0
    await Promise.all(
      n.map(async ({db, as}) => {
        for (let idle = 0; idle < 200 && seen.length < 60; ) {
          const got = await claimQueued(db, unit, as)
          if (got.length === 0) {
            idle++
            await new Promise((r) => setImmediate(r))
            continue
          }
          running += got.length
          peak = Math.max(peak, running)
          seen.push(...got.map((r) => r.id))
          for (const r of got) {
            running--
            expect(await saveRun(db, ended(started(r)), as)).toBe(true)
          }
        }
      }),
    )
    expect(peak).toBeLessThanOrEqual(3)
    expect([...seen].sort()).toEqual(ids.slice(3).sort())
    expect(new Set(seen).size).toBe(60)
  })
})

describePg('run records in PostgreSQL', () => {
  it('round-trips a record field for field, with its node', async () => {
    const [{db}] = await nodes()
    const record = pendingRun('job', {params: {'--region': 'eu'}, scheduled_at: '2026-03-01T11:59:59.250Z', triggered_by: 'cron', retry_attempt: 2, retry_of_run_id: '01KPREVIOUS0000000000000000'})
    const admitted = await admitRun(db, task('queue'), record, A, endUnstarted)
    expect(admitted.run).toEqual({...record, node: 'a'})
    const done = ended(started({...record, process_start: '12345'}, 777), 'failed')
    expect(await saveRun(db, done, A)).toBe(true)
    expect(await getRun(db, record.id)).toEqual({...done, node: 'a'})
  })

  it('writes are fenced: only the owning incarnation writes, and an ended run never changes again', async () => {
    const [{db}] = await nodes()
    const {run} = await admitRun(db, task('queue'), pendingRun('job'), A, endUnstarted)
    expect(await saveRun(db, started(run), B)).toBe(false)
    expect(await saveRun(db, started(run), {node: 'a', incarnation: B.incarnation})).toBe(false)
    expect(await saveRun(db, ended(started(run), 'success'), A)).toBe(true)
    expect(await saveRun(db, ended(started(run), 'failed'), A)).toBe(false)
    expect((await getRun(db, run.id))?.end_reason).toBe('success')
  })

  it('stopping a queued run ends it at once; a running one is asked of its node; an ended one is not active', async () => {
    const [{db}] = await nodes()
    const active = await admitRun(db, task('queue'), pendingRun('job'), A, endUnstarted)
    const waiting = await admitRun(db, task('queue'), pendingRun('job'), B, endUnstarted)
    const dequeued = await stopClusterRun(db, waiting.run.id, 'operator', (r) => endUnstarted(r, 'stopped', 'stopped by an operator before it started'))
    expect(dequeued).toMatchObject({result: 'dequeued', run: {id: waiting.run.id, status: 'ended', end_reason: 'stopped', message: 'stopped by an operator before it started'}})
    expect(await stopClusterRun(db, active.run.id, 'operator', (r) => r)).toEqual({result: 'stopping', node: 'a'})
    expect(await pendingStops(db, A)).toEqual([{id: active.run.id, cause: 'operator'}])
    await saveRun(db, ended(started(active.run), 'stopped'), A)
    expect(await stopClusterRun(db, active.run.id, 'operator', (r) => r)).toEqual({result: 'not_active'})
    expect(await pendingStops(db, A)).toEqual([])
  })
})
