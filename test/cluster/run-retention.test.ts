import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import type {ClusterDb} from '../../src/cluster/db.js'
import {knownRuns, pruneRuns} from '../../src/cluster/run-retention.js'
import {insertRun} from '../../src/cluster/runs.js'
import {retentionRules, sweepCluster} from '../../src/engine/cluster-retention.js'
import {StateLayout} from '../../src/state/layout.js'
import type {RunRecord} from '../../src/state/run-record.js'
import type {Unit} from '../../src/core/types.js'
import type {ClusterPort} from '../../src/engine/cluster-port.js'
import {RetentionSweep} from '../../src/engine/retention-sweep.js'
import type {RunView} from '../../src/engine/run-view.js'
import type {RecordJournal} from '../../src/state/record-journal.js'
import {RunStore, entryOf} from '../../src/state/runs.js'
import {MemoryLogger, closeDbs, clusterDb, ended, migratedDb, pendingRun, started} from '../support/cluster.js'
import {FakeClock} from '../support/fake-clock.js'
import {describePg} from '../support/postgres.js'

const dirs: string[] = []
afterEach(async () => {
  await closeDbs()
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

const A = {node: 'a', incarnation: '00000000-0000-4000-8000-00000000000a'}
const B = {node: 'b', incarnation: '00000000-0000-4000-8000-00000000000b'}
const T0 = Date.parse('2026-03-01T12:00:00Z')
const DAY = 86_400_000
const NS_PER_MS = 1e6

async function store(db: ClusterDb, record: RunRecord, owner: typeof A | null = A): Promise<string> {
  await insertRun(db, record, owner)
  return record.id
}

async function ids(db: ClusterDb): Promise<string[]> {
  return (await db.query<{id: string}>('SELECT id FROM sched.runs ORDER BY id')).rows.map((r) => r.id)
}

const unit = (name: string, keep_runs: number, keepForDays = 0) => ({name, keep_runs, keep_for: keepForDays * DAY * NS_PER_MS})
const rulesOf = (now: number, ...units: ReturnType<typeof unit>[]) => retentionRules(new Map(units.map((u) => [u.name, u])), now)

describePg('retention of run records in the cluster', () => {
  it('keep_runs keeps each task\'s newest ended runs; pending, queued and running runs are never counted or deleted', async () => {
    const {db} = await migratedDb()
    const old = [await store(db, ended(pendingRun('job'))), await store(db, ended(pendingRun('job'), 'failed')), await store(db, ended(pendingRun('job')))]
    const running = await store(db, started(pendingRun('job')))
    const queued = await store(db, pendingRun('job'), null)
    const newest = [await store(db, ended(pendingRun('job'))), await store(db, ended(pendingRun('job')))]
    const other = await store(db, ended(pendingRun('other')))
    expect(await pruneRuns(db, rulesOf(T0, unit('job', 2), unit('other', 0)))).toBe(3)
    expect(await ids(db)).toEqual([running, queued, ...newest, other].sort())
    // Nothing more to do: a second sweep deletes nothing.
    expect(await pruneRuns(db, rulesOf(T0, unit('job', 2)))).toBe(0)
    expect(old.every((id) => id < newest[0])).toBe(true)
  })

  it('keep_for deletes ended runs created before the cutoff; a unit the config no longer has is left alone', async () => {
    const {db} = await migratedDb()
    const at = (ms: number) => new Date(ms).toISOString()
    const now = T0 + 10 * DAY
    const old = await store(db, ended(pendingRun('job', {created_at: at(now - 3 * DAY)})))
    const oldRunning = await store(db, started(pendingRun('job', {created_at: at(now - 3 * DAY)})))
    const fresh = await store(db, ended(pendingRun('job', {created_at: at(now - DAY / 2)})))
    const gone = await store(db, ended(pendingRun('removed', {created_at: at(now - 9 * DAY)})))
    expect(await pruneRuns(db, rulesOf(now, unit('job', 0, 2)))).toBe(1)
    expect(await ids(db)).toEqual([oldRunning, fresh, gone].sort())
    expect(await knownRuns(db, [old, fresh, 'NOPE'])).toEqual(new Set([fresh]))
  })

  it('every node sweeps at once: each record is deleted once, by one of them', async () => {
    const {url, db} = await migratedDb()
    for (let i = 0; i < 300; i++) await store(db, ended(pendingRun('job')))
    const rules = rulesOf(T0, unit('job', 10))
    const counts = await Promise.all([0, 1, 2].map(() => pruneRuns(clusterDb(url), rules)))
    expect(counts.reduce((x, y) => x + y, 0)).toBe(290)
    expect(await ids(db)).toHaveLength(10)
  })

  it('each node deletes the logs in its own state directory of the runs retention took, whichever node deleted the record', async () => {
    const {db} = await migratedDb()
    const layout = (name: string) => {
      const dir = mkdtempSync(join(tmpdir(), `sched-retention-${name}-`))
      dirs.push(dir)
      return new StateLayout(dir)
    }
    const [onA, onB] = [layout('a'), layout('b')]
    const log = (l: StateLayout, id: string, older = false) => {
      mkdirSync(l.logsDir('job'), {recursive: true})
      writeFileSync(l.logFile('job', id), 'out\n')
      if (older) writeFileSync(`${l.logFile('job', id)}.1`, 'older\n')
      return l.logFile('job', id)
    }
    const oldA = await store(db, ended(pendingRun('job')), A)
    const oldB = await store(db, ended(pendingRun('job')), B)
    const keptA = await store(db, ended(pendingRun('job')), A)
    const keptB = await store(db, ended(pendingRun('job')), B)
    const paths = {oldA: log(onA, oldA, true), oldB: log(onB, oldB), keptA: log(onA, keptA), keptB: log(onB, keptB)}
    // A log from this state directory's file-mode life: its record is local, not the cluster's.
    const fileMode = log(onB, '01JZZZZZZZZZZZZZZZZZZZZZZZ')
    const cluster = {pruneRuns: (r: Parameters<typeof pruneRuns>[1]) => pruneRuns(db, r), knownRuns: (i: readonly string[]) => knownRuns(db, i)}
    const rules = rulesOf(T0, unit('job', 2))

    // Node a sweeps first: it deletes both records, and only its own log.
    expect(await sweepCluster(cluster, onA, rules, new Set())).toEqual({deletedRuns: 2, deletedLogs: 1})
    expect([existsSync(paths.oldA), existsSync(`${paths.oldA}.1`), existsSync(paths.keptA)]).toEqual([false, false, true])
    expect(existsSync(paths.oldB)).toBe(true)
    // Node b's sweep finds no record to delete and deletes its log of the run node a took.
    expect(await sweepCluster(cluster, onB, rules, new Set(['01JZZZZZZZZZZZZZZZZZZZZZZZ']))).toEqual({deletedRuns: 0, deletedLogs: 1})
    expect([existsSync(paths.oldB), existsSync(paths.keptB), existsSync(fileMode)]).toEqual([false, true, true])
  })

  it('the daemon\'s hourly sweep on a node: the cluster\'s records past keep_runs go, and this node\'s logs of them, even of runs it ran in this life', async () => {
    const {db} = await migratedDb()
    const dir = mkdtempSync(join(tmpdir(), 'sched-retention-sweep-'))
    dirs.push(dir)
    const layout = new StateLayout(dir)
    const runs = [ended(pendingRun('job')), ended(pendingRun('job')), ended(pendingRun('job'))]
    for (const r of runs) {
      await store(db, r, A)
      mkdirSync(layout.logsDir('job'), {recursive: true})
      writeFileSync(layout.logFile('job', r.id), 'out\n')
    }
    const clock = new FakeClock(T0)
    const logger = new MemoryLogger()
    // The node ran them in this life: its run index knows them (they have no record in the state directory).
    const view = {entries: () => runs.map(entryOf), forget: () => undefined} as unknown as RunView
    const cluster = {pruneRuns: (r: Parameters<typeof pruneRuns>[1]) => pruneRuns(db, r), knownRuns: (i: readonly string[]) => knownRuns(db, i)} as unknown as ClusterPort
    const sweep = new RetentionSweep({clock, logger, store: new RunStore(layout), journal: {} as RecordJournal, books: {flush: async () => undefined}, view, cluster, policy: () => ({units: new Map([['job', {...unit('job', 1)} as unknown as Unit]]), maxStorage: 0})})
    await sweep.sweep()
    expect(await ids(db)).toEqual([runs[2].id])
    expect(runs.map((r) => existsSync(layout.logFile('job', r.id)))).toEqual([false, false, true])
    expect(logger.entries.find((e) => e.event === 'retention.cluster_sweep')?.fields).toEqual({deleted_runs: 2, deleted_logs: 2})
  })
})
