import {afterEach, expect, it} from 'vitest'
import {insertRun, queryClusterRuns} from '../../src/cluster/runs.js'
import type {EndReason, TriggerSource} from '../../src/core/types.js'
import {type RunQuery, newestFirst, queryRuns} from '../../src/state/run-query.js'
import type {RunRecord} from '../../src/state/run-record.js'
import {entryOf} from '../../src/state/runs.js'
import {closeDbs, ended, migratedDb, pendingRun, started} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'

afterEach(closeDbs)

const SOURCES: TriggerSource[] = ['cron', 'api', 'cli', 'catch_up']
const REASONS: EndReason[] = ['success', 'failed', 'timeout', 'skipped']

/** 120 runs of three tasks in every phase, the same set in PostgreSQL and as state-directory entries. */
function history(): RunRecord[] {
  return Array.from({length: 120}, (_, i) => {
    const base = pendingRun(['a', 'b', 'c'][i % 3], {triggered_by: SOURCES[i % 4]})
    if (i % 11 === 0) return base
    if (i % 7 === 0) return started(base)
    return ended(started(base), REASONS[i % 4])
  })
}

describePg('cluster run queries answer as the state directory does (GET /api/runs)', () => {
  it.each<[string, Omit<RunQuery, 'before'> & {page?: number}]>([
    ['the newest 50', {limit: 50}],
    ['one task', {task: 'b', limit: 10}],
    ['a phase: running', {status: 'running', limit: 100}],
    ['a phase: pending', {status: 'pending', limit: 100}],
    ['a phase: ended', {status: 'ended', limit: 7}],
    ['an end reason', {status: 'failed', limit: 100}],
    ['a trigger source and a task', {task: 'a', triggered_by: 'cron', limit: 3}],
    ['the third page', {task: 'c', limit: 4, page: 3}],
    ['a task with no runs', {task: 'zzz', limit: 5}],
  ])('%s', async (_name, query) => {
    const {db} = await migratedDb()
    const records = history()
    for (const r of records) await insertRun(db, r, r.status === 'pending' ? null : {node: 'n', incarnation: '00000000-0000-4000-8000-000000000001'})
    const byId = new Map(records.map((r) => [r.id, r]))
    const entries = records.map(entryOf)
    const fromDisk = (q: RunQuery) => queryRuns(newestFirst(entries), q, async (e) => byId.get(e.id))
    let q: RunQuery = {...query}
    for (let p = 1; p < (query.page ?? 1); p++) q = {...q, before: (await fromDisk(q)).next ?? undefined}
    const expected = await fromDisk(q)
    const got = await queryClusterRuns(db, q)
    expect(got.total).toBe(expected.total)
    expect(got.next).toBe(expected.next)
    expect(got.runs.map(({node: _node, ...r}) => r)).toEqual(expected.runs)
  })

  it('refuses an unknown status as the state directory query does', async () => {
    const {db} = await migratedDb()
    await expect(queryClusterRuns(db, {status: 'exploded', limit: 5})).rejects.toThrow('unknown status "exploded"')
  })
})
