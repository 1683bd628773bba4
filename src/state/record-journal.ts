import {close, closeSync, fdatasync, fsync, fsyncSync, mkdir, mkdirSync, open, openSync, readFileSync, readdirSync, rename, renameSync, unlink, unlinkSync, write, writeFile, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'
import {crc32} from 'node:zlib'
import type {RunRecord} from './run-record.js'
import {type RunEntry, type RunStore, entryOf, runFileName} from './runs.js'

// Callback-style fs through promisify: cheaper on the event loop than fs/promises' file handles.
const mkdirAsync = promisify(mkdir)
const writeFileAsync = promisify(writeFile)
const renameAsync = promisify(rename)
const unlinkAsync = promisify(unlink)
const openAsync = promisify(open)
const fsyncAsync = promisify(fsync)
const closeAsync = promisify(close)

/** process.pid is a system call each time it is read. */
const PID = process.pid
/** A segment this large is checkpointed and a new one begun. */
const SEGMENT_BYTES = 8 << 20

interface Pending {
  readonly record: RunRecord
  /** The record as JSON, made once for the journal and the file. */
  readonly text: string
  readonly previous?: RunEntry
  readonly onDurable?: () => void
  resolve(entry: RunEntry): void
  reject(error: unknown): void
}

export type JournalError = (what: string, error: unknown) => void

/**
 * The record is durable (its journal line is synced; the next boot writes its file) but its own
 * file could not be written yet: readers of the files do not see it. `code` is the disk's error.
 */
export class FileNotWritten extends Error {
  readonly code?: string
  constructor(readonly error: unknown) {
    super((error as Error).message)
    this.code = (error as NodeJS.ErrnoException).code
  }
}

/**
 * Group commit for run records. A record is durable once its line is in the journal
 * (`STATE/journal/<n>.wal`, one fdatasync for every record that arrived while the previous sync
 * was under way); then it is written to its own file (`runs/<unit>/…json`, atomically, without an
 * fsync of its own) for readers. Those files, and the folders whose entries changed, are fsynced
 * together at a checkpoint — when a segment fills, before retention deletes runs, and at close —
 * and only then is the journal emptied. At boot `replay` re-writes from the journal whatever a
 * crash left behind in the files, so an acknowledged record is never lost and a burst of runs
 * costs a handful of syncs instead of three each.
 */
export class RecordJournal {
  /** Journal syncs and records committed since start: records per sync is the group-commit gain. */
  readonly stats = {syncs: 0, records: 0}
  private queue: Pending[] = []
  private committing = false
  private scheduled = false
  private fd = -1
  private offset = 0
  private segment = 0
  /** Files and folders changed since the last checkpoint. */
  private readonly dirtyFiles = new Set<string>()
  private readonly dirtyDirs = new Set<string>()
  private readonly knownDirs = new Set<string>()
  /** Records in the journal whose own file could not be written yet (the disk refused). */
  private readonly unwritten = new Map<string, {record: RunRecord; previous?: RunEntry}>()
  /** Per run, the last file write under way: one run's files are written in the order saved. */
  private readonly writing = new Map<string, Promise<void>>()
  private idle: (() => void)[] = []

  constructor(
    private readonly store: RunStore,
    private readonly onError: JournalError = () => {},
  ) {}

  private get dir(): string {
    return this.store.layout.journalDir
  }

  /**
   * Re-applies what the journal holds to the record files (a crash may have come between a
   * journal sync and a file write), makes the files durable, and empties the journal. Call once
   * before reading the records at boot. Returns how many records it re-wrote.
   */
  replay(): number {
    const latest = new Map<string, RunRecord>()
    for (const file of segments(this.dir)) {
      for (const record of readSegment(join(this.dir, file))) latest.set(record.id, record)
    }
    let rewritten = 0
    for (const record of latest.values()) {
      const path = this.store.path(entryOf(record))
      if (sameContent(path, record)) continue
      this.writeFileSync(record, staleEntries(record))
      rewritten++
    }
    if (latest.size > 0 || segments(this.dir).length > 0) this.checkpointSync()
    return rewritten
  }

  /**
   * Resolves once the record is durable (in the journal) and in its own file. `onDurable` is
   * called in between, as soon as the journal holds it: what only needs the record to survive a
   * crash (a process start) need not wait for the file.
   */
  save(record: RunRecord, previous?: RunEntry, onDurable?: () => void): Promise<RunEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({record, text: JSON.stringify(record), previous, onDurable, resolve, reject})
      if (!this.committing && !this.scheduled) {
        this.scheduled = true
        // Records saved in the same turn of the event loop share one sync.
        setImmediate(() => {
          this.scheduled = false
          void this.commit()
        })
      }
    })
  }

  /** Makes every record file durable and empties the journal (retention is about to delete files). */
  async checkpoint(): Promise<void> {
    await this.drained()
    this.committing = true
    try {
      await this.checkpointAsync()
    } finally {
      this.committing = false
      if (this.queue.length) void this.commit()
    }
  }

  /** Everything saved so far is durable; the journal is emptied and closed. */
  async close(): Promise<void> {
    await this.checkpoint()
    if (this.fd !== -1) closeSync(this.fd)
    this.fd = -1
  }

  /** Nothing queued, nothing being synced, no file being written. */
  private async drained(): Promise<void> {
    for (;;) {
      if (this.committing || this.scheduled || this.queue.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
      else if (this.writing.size > 0) await Promise.all(this.writing.values())
      else return
    }
  }

  private async commit(): Promise<void> {
    if (this.committing) return
    this.committing = true
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0)
        try {
          this.openSegment()
          const bytes = Buffer.concat(batch.map((p) => journalLine(p.text)))
          await writeAll(this.fd, bytes, this.offset)
          await sync(this.fd, true)
          this.offset += bytes.length
          this.stats.syncs++
          this.stats.records += batch.length
        } catch (error) {
          // Nothing of the batch is acknowledged; a torn tail is overwritten by the next batch.
          for (const p of batch) p.reject(error)
          continue
        }
        for (const p of batch) callSafely(p.onDurable)
        void this.retryUnwritten()
        // Acknowledged once in its own file too: whoever is told "it ended" finds it ended there.
        // A file the disk refused is refused to the saver as well (the journal still keeps it
        // for the next boot): a reader of the files would not find it yet. The files are written
        // while the next batch is synced: a batch's file writes never delay the next one's sync.
        for (const p of batch) {
          void this.inOrder(p.record.id, async () => {
            const error = await this.writeOrRemember(p.record, p.previous, p.text)
            if (error === undefined) p.resolve(entryOf(p.record))
            else p.reject(new FileNotWritten(error))
          })
        }
        if (this.offset >= SEGMENT_BYTES) {
          // A segment goes only once every file it covers is written and synced.
          await Promise.all(this.writing.values())
          await this.checkpointAsync()
        }
      }
    } finally {
      this.committing = false
      for (const resolve of this.idle.splice(0)) resolve()
    }
  }

  /** Writes the record's file; when the disk refuses, remembers it for the next commit and returns the error. */
  private async writeOrRemember(record: RunRecord, previous: RunEntry | undefined, text = JSON.stringify(record)): Promise<unknown> {
    try {
      await this.writeFile(record, text, previous ? [previous] : [])
      this.unwritten.delete(record.id)
      return undefined
    } catch (error) {
      const before = this.unwritten.get(record.id)
      this.unwritten.set(record.id, {record, previous: before?.previous ?? previous})
      return error
    }
  }

  /** Writes again the files the disk refused, each in its run's order: a newer state written since is not overwritten. */
  private async retryUnwritten(): Promise<void> {
    await Promise.all(
      [...this.unwritten].map(([id, kept]) =>
        this.inOrder(id, async () => {
          if (this.unwritten.get(id) === kept) await this.writeOrRemember(kept.record, kept.previous)
        }),
      ),
    )
  }

  /** Runs `write` after every earlier file write of the same run. */
  private inOrder(id: string, write: () => Promise<void>): Promise<void> {
    const mine = (this.writing.get(id) ?? Promise.resolve()).then(write)
    this.writing.set(id, mine)
    void mine.then(() => {
      if (this.writing.get(id) === mine) this.writing.delete(id)
    })
    return mine
  }

  /**
   * The record's own file, written atomically (temp + rename) by the thread pool, so the event
   * loop never waits on the disk; the files of its earlier states go.
   */
  private async writeFile(record: RunRecord, text: string, previous: readonly RunEntry[]): Promise<void> {
    const entry = entryOf(record)
    const path = this.store.path(entry)
    const dir = dirname(path)
    if (!this.knownDirs.has(dir)) {
      await mkdirAsync(dir, {recursive: true, mode: 0o700})
      this.knownDirs.add(dir)
      this.dirtyDirs.add(dirname(dir))
    }
    const temp = `${path}.${PID}.tmp`
    try {
      try {
        await writeFileAsync(temp, text, {mode: 0o600})
      } catch (error) {
        // Retention may have removed the shard as it emptied.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        await mkdirAsync(dir, {recursive: true, mode: 0o700})
        await writeFileAsync(temp, text, {mode: 0o600})
      }
      await renameAsync(temp, path)
    } catch (error) {
      // A half-written temp file on a full disk holds the very space the retry needs.
      await unlinkAsync(temp).catch(() => {})
      throw error
    }
    this.dirtyFiles.add(path)
    this.dirtyDirs.add(dir)
    for (const old of previous) {
      if (old.file === entry.file) continue
      const oldPath = this.store.path(old)
      this.dirtyFiles.delete(oldPath)
      try {
        await unlinkAsync(oldPath)
        this.dirtyDirs.add(dirname(oldPath))
      } catch {
        // already gone
      }
    }
  }

  /** The same, blocking: for replay at boot, before anything else runs. */
  private writeFileSync(record: RunRecord, previous: readonly RunEntry[]): void {
    const path = this.store.path(entryOf(record))
    mkdirSync(dirname(path), {recursive: true, mode: 0o700})
    const temp = `${path}.${PID}.tmp`
    writeFileSync(temp, JSON.stringify(record), {mode: 0o600})
    renameSync(temp, path)
    this.dirtyFiles.add(path)
    this.dirtyDirs.add(dirname(path))
    this.dirtyDirs.add(dirname(dirname(path)))
    for (const old of previous) {
      try {
        unlinkSync(this.store.path(old))
      } catch {
        // already gone
      }
    }
  }

  private openSegment(): void {
    if (this.fd !== -1) return
    mkdirSync(this.dir, {recursive: true, mode: 0o700})
    const existing = segments(this.dir)
    this.segment = existing.length ? Number.parseInt(existing.at(-1)!, 10) + 1 : 1
    this.fd = openSync(join(this.dir, segmentName(this.segment)), 'w', 0o600)
    this.offset = 0
    fsyncDir(this.dir)
  }

  /** The files first, then the folders holding their names, then the journal may go. */
  private async checkpointAsync(): Promise<void> {
    if (this.unwritten.size > 0) await this.retryUnwritten()
    if (this.unwritten.size > 0) return
    const files = [...this.dirtyFiles]
    const dirs = [...this.dirtyDirs]
    this.dirtyFiles.clear()
    this.dirtyDirs.clear()
    try {
      await inParallel(files, (path) => syncPath(path))
      await inParallel(dirs, (path) => syncPath(path))
    } catch (error) {
      for (const f of files) this.dirtyFiles.add(f)
      for (const d of dirs) this.dirtyDirs.add(d)
      this.onError('cannot make the record files durable; the journal keeps them', error)
      return
    }
    this.dropSegments()
  }

  private checkpointSync(): void {
    for (const path of [...this.dirtyFiles, ...this.dirtyDirs]) {
      try {
        const fd = openSync(path, 'r')
        try {
          fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
    this.dirtyFiles.clear()
    this.dirtyDirs.clear()
    this.dropSegments()
  }

  private dropSegments(): void {
    if (this.fd !== -1) closeSync(this.fd)
    this.fd = -1
    for (const file of segments(this.dir)) unlinkSync(join(this.dir, file))
    fsyncDir(this.dir)
  }
}

/** A caller's callback must not break the commit loop that calls it. */
function callSafely(fn: (() => void) | undefined): void {
  try {
    fn?.()
  } catch {
    // the caller's own failure is the caller's to report
  }
}

/** One journal line: the CRC-32 of the record's JSON, a space, the JSON. */
export function journalLine(text: string): Buffer {
  const json = Buffer.from(text)
  return Buffer.concat([Buffer.from(`${crc32(json).toString(16)} `), json, NEWLINE])
}

const NEWLINE = Buffer.from('\n')

/** The records of one segment, in order; a torn or damaged line (the tail of a crash) ends it. */
export function readSegment(path: string): RunRecord[] {
  const out: RunRecord[] = []
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ')
    if (space === -1) break
    const json = line.slice(space + 1)
    if (crc32(json).toString(16) !== line.slice(0, space)) break
    out.push(JSON.parse(json) as RunRecord)
  }
  return out
}

function segments(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /^\d{8}\.wal$/.test(f))
      .sort()
  } catch {
    return []
  }
}

function segmentName(n: number): string {
  return `${String(n).padStart(8, '0')}.wal`
}

/** The names an earlier state of this run may have left: an ended run's active file. */
function staleEntries(record: RunRecord): RunEntry[] {
  if (record.status !== 'ended') return []
  const file = runFileName({...record, status: 'pending', end_reason: null})
  return [{id: record.id, unit: record.task_name, triggered_by: record.triggered_by, state: 'active', file}]
}

function sameContent(path: string, record: RunRecord): boolean {
  try {
    return readFileSync(path, 'utf8') === JSON.stringify(record)
  } catch {
    return false
  }
}

function writeAll(fd: number, bytes: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (done: number) => {
      if (done === bytes.length) return resolve()
      write(fd, bytes, done, bytes.length - done, position + done, (error, n) => (error ? reject(error) : next(done + n)))
    }
    next(0)
  })
}

function sync(fd: number, dataOnly: boolean): Promise<void> {
  return new Promise((resolve, reject) => (dataOnly ? fdatasync : fsync)(fd, (error) => (error ? reject(error) : resolve())))
}

async function syncPath(path: string): Promise<void> {
  let fd: number
  try {
    fd = await openAsync(path, 'r')
  } catch (error) {
    // Deleted since (a later state of the run, retention): nothing to make durable.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  try {
    await fsyncAsync(fd)
  } finally {
    await closeAsync(fd)
  }
}


function fsyncDir(dir: string): void {
  let fd: number
  try {
    fd = openSync(dir, 'r')
  } catch (error) {
    // No journal yet: nothing was ever written to it.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>, width = 8): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(width, items.length)}, async () => {
      while (next < items.length) await fn(items[next++])
    }),
  )
}
