import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {StateLayout} from '../../src/state/layout.js'
import {RecordJournal, journalLine, readSegment} from '../../src/state/record-journal.js'
import {type RunRecord, newRunRecord} from '../../src/state/run-record.js'
import {RunStore, entryOf, runRelativePath} from '../../src/state/runs.js'
import {tempDirsPerTest} from '../support/cli.js'

/**
 * Group commit of run records (engine v2): one journal sync for the records that arrive
 * together, the record's own file written after it, and after a crash the journal puts back
 * whatever the files missed.
 */

const tempDir = tempDirsPerTest()

function setup() {
  const layout = new StateLayout(join(tempDir(), 'state'))
  const store = new RunStore(layout)
  return {layout, store, journal: new RecordJournal(store)}
}

let seq = 0
function record(patch: Partial<RunRecord> = {}): RunRecord {
  seq++
  const at = '2025-01-01T00:00:00.000Z'
  return newRunRecord({id: `01JG00000000000000000${String(seq).padStart(5, '0')}`, task_name: 't', kind: 'task', triggered_by: 'api', created_at: at, status: 'running', started_at: at, ...patch})
}

const ended = (r: RunRecord): RunRecord => ({...r, status: 'ended', end_reason: 'success', exit_code: 0, ended_at: '2025-01-01T00:00:01.000Z', duration_ms: 1000})

describe('group commit', () => {
  it('records saved together share one journal sync, and each is in its own file once acknowledged', async () => {
    const {store, journal} = setup()
    const records = Array.from({length: 50}, () => record())
    const entries = await Promise.all(records.map((r) => journal.save(r)))
    expect(journal.stats).toEqual({syncs: 1, records: 50})
    for (const [i, entry] of entries.entries()) {
      expect(entry).toEqual(entryOf(records[i]))
      expect(JSON.parse(readFileSync(store.path(entry), 'utf8'))).toEqual(records[i])
    }
  })

  it('a record that arrives while a sync is under way goes with the next one', async () => {
    const {journal} = setup()
    const first = journal.save(record())
    await new Promise((r) => setImmediate(r))
    const later = await Promise.all([journal.save(record()), journal.save(record())])
    await first
    expect(later).toHaveLength(2)
    expect(journal.stats).toEqual({syncs: 2, records: 3})
  })

  it('a new state replaces the file of the previous one (active → shard)', async () => {
    const {store, journal, layout} = setup()
    const r = record()
    const entry = await journal.save(r)
    const done = await journal.save(ended(r), entry)
    expect(existsSync(store.path(entry))).toBe(false)
    expect(store.path(done)).toBe(join(layout.runsDir('t'), runRelativePath(ended(r))))
    expect(store.list('t')).toEqual([done])
  })

  it('tells the saver when the record is durable: in the journal, before its own file is written', async () => {
    const {store, journal, layout} = setup()
    const r = record()
    const seen: {inJournal: boolean; fileExists: boolean}[] = []
    let resolved = false
    const saved = journal
      .save(r, undefined, () => {
        const inJournal = readdirSync(layout.journalDir).some((f) => readSegment(join(layout.journalDir, f)).some((x) => x.id === r.id))
        seen.push({inJournal, fileExists: existsSync(store.path(entryOf(r)))})
        expect(resolved).toBe(false)
      })
      .then((entry) => {
        resolved = true
        return entry
      })
    const entry = await saved
    expect(seen).toEqual([{inJournal: true, fileExists: false}])
    expect(existsSync(store.path(entry))).toBe(true)
  })

  it("one run's states saved back to back land in order: the last one alone is on disk", async () => {
    const {store, journal} = setup()
    const runs = Array.from({length: 20}, () => record({status: 'pending', started_at: null}))
    // Each state in a batch of its own (a turn apart), none waiting for the one before.
    const saves: Promise<unknown>[] = []
    for (const r of runs) saves.push(journal.save(r))
    await new Promise((resolve) => setImmediate(resolve))
    for (const r of runs) saves.push(journal.save({...r, status: 'running', started_at: r.created_at}, entryOf(r)))
    await new Promise((resolve) => setImmediate(resolve))
    for (const r of runs) saves.push(journal.save(ended(r), entryOf(r)))
    await Promise.all(saves)
    expect(journal.stats.syncs).toBeGreaterThanOrEqual(2)
    expect(store.list('t')).toEqual(runs.map((r) => entryOf(ended(r))))
    for (const r of runs) expect(JSON.parse(readFileSync(store.path(entryOf(ended(r))), 'utf8'))).toEqual(ended(r))
  })

  it('a checkpoint empties the journal; close leaves nothing in it', async () => {
    const {journal, layout} = setup()
    await journal.save(record())
    expect(readdirSync(layout.journalDir)).toHaveLength(1)
    await journal.checkpoint()
    expect(readdirSync(layout.journalDir)).toEqual([])
    await journal.save(record())
    await journal.close()
    expect(readdirSync(layout.journalDir)).toEqual([])
  })
})

describe('replay after a crash', () => {
  it('puts back what the files missed: an ended run whose file still says active, a run with no file at all', async () => {
    const {store, layout} = setup()
    const a = record()
    const b = record()
    // The daemon wrote a's active file and then died after syncing both final records to the
    // journal, before writing their files.
    mkdirSync(layout.runsDir('t'), {recursive: true})
    writeFileSync(store.path(entryOf(a)), JSON.stringify(a))
    mkdirSync(layout.journalDir, {recursive: true})
    writeFileSync(join(layout.journalDir, '00000001.wal'), Buffer.concat([journalLine(JSON.stringify(a)), journalLine(JSON.stringify(ended(a))), journalLine(JSON.stringify(ended(b)))]))
    const journal = new RecordJournal(store)
    expect(journal.replay()).toBe(2)
    expect(store.list('t')).toEqual([entryOf(ended(a)), entryOf(ended(b))])
    expect(store.readSync(entryOf(ended(b)))).toEqual(ended(b))
    expect(readdirSync(layout.journalDir)).toEqual([])
  })

  it('a torn last line (the crash came mid-write) is ignored; the lines before it count', () => {
    const {store, layout} = setup()
    const a = record()
    const b = record()
    mkdirSync(layout.journalDir, {recursive: true})
    const path = join(layout.journalDir, '00000001.wal')
    writeFileSync(path, Buffer.concat([journalLine(JSON.stringify(ended(a))), journalLine(JSON.stringify(ended(b))).subarray(0, 40)]))
    expect(readSegment(path)).toEqual([ended(a)])
    expect(new RecordJournal(store).replay()).toBe(1)
    expect(store.list('t')).toEqual([entryOf(ended(a))])
  })

  it('files already up to date are left alone', async () => {
    const {store, layout} = setup()
    const journal = new RecordJournal(store)
    const r = ended(record())
    await journal.save(r)
    // A crash before the checkpoint: the journal still holds a record whose file is right.
    expect(readdirSync(layout.journalDir)).toHaveLength(1)
    expect(new RecordJournal(store).replay()).toBe(0)
    expect(readdirSync(layout.journalDir)).toEqual([])
  })
})
