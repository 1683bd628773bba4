import {mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync} from 'node:fs'
import {readFile, rm, rmdir} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {olderSegmentPath} from '../logs/format.js'
import {END_REASONS, type EndReason, TRIGGER_SOURCES, type TriggerSource} from '../core/types.js'
import {ULID_PATTERN, ulidTime} from '../core/ulid.js'
import {type CorruptReport, parseStateText} from './json-file.js'
import type {StateLayout} from './layout.js'
import {writeFileAtomicSync} from './atomic.js'
import {type RunRecord, newRunRecord} from './run-record.js'

/**
 * Run records on disk, one small file per run, named for what listings filter on:
 * `<id>.<triggered_by>.<end_reason|active>.json`. A pending or running run's file sits in
 * `runs/<unit>/`; when it ends it moves into `runs/<unit>/<shard>/`, the shard being the first six
 * characters of its id — a 17-minute slice of time. So the runs still active are a short listing
 * (boot, `sched status`), and the newest finished runs are found in the newest shards without
 * listing a hundred thousand files.
 */
export interface RunEntry {
  readonly id: string
  readonly unit: string
  readonly triggered_by: TriggerSource
  /** `active` while pending or running, else the end reason. */
  readonly state: EndReason | 'active'
  /** The record's path relative to its unit's folder. */
  readonly file: string
}

const STATES: ReadonlySet<string> = new Set([...END_REASONS, 'active'])
const SOURCES: ReadonlySet<string> = new Set(TRIGGER_SOURCES)
const SHARD_LENGTH = 6
const SHARD = /^[0-9A-HJKMNP-TV-Z]{6}$/

export function runFileName(record: Pick<RunRecord, 'id' | 'triggered_by' | 'status' | 'end_reason'>): string {
  const state = record.status === 'ended' ? record.end_reason : 'active'
  return `${record.id}.${record.triggered_by}.${state}.json`
}

/** Where a record lives relative to its unit's folder. */
export function runRelativePath(record: Pick<RunRecord, 'id' | 'triggered_by' | 'status' | 'end_reason'>): string {
  const name = runFileName(record)
  return record.status === 'ended' ? `${record.id.slice(0, SHARD_LENGTH)}/${name}` : name
}

export function entryOf(record: RunRecord): RunEntry {
  return {
    id: record.id,
    unit: record.task_name,
    triggered_by: record.triggered_by,
    state: record.status === 'ended' ? record.end_reason! : 'active',
    file: runRelativePath(record),
  }
}

function parseRunFileName(unit: string, file: string, shard?: string): RunEntry | undefined {
  const parts = file.split('.')
  if (parts.length !== 4 || parts[3] !== 'json') return undefined
  const [id, source, state] = parts
  if (!ULID_PATTERN.test(id) || !SOURCES.has(source) || !STATES.has(state)) return undefined
  return {id, unit, triggered_by: source as TriggerSource, state: state as RunEntry['state'], file: shard ? `${shard}/${file}` : file}
}

export class RunStore {
  constructor(
    readonly layout: StateLayout,
    private readonly onCorrupt?: CorruptReport,
  ) {}

  units(): string[] {
    return listDir(this.layout.runsRoot)
  }

  /** Runs still pending or running, in every unit, oldest first. */
  listActive(): RunEntry[] {
    return this.units()
      .flatMap((unit) => this.activeOf(unit))
      .sort(byId)
  }

  /** A unit's shards, newest first. */
  shards(unit: string): string[] {
    return listDir(this.layout.runsDir(unit))
      .filter((name) => SHARD.test(name))
      .sort()
      .reverse()
  }

  /** The finished runs in one shard, oldest first. */
  shardEntries(unit: string, shard: string): RunEntry[] {
    const found: RunEntry[] = []
    for (const file of listDir(join(this.layout.runsDir(unit), shard))) {
      const entry = parseRunFileName(unit, file, shard)
      if (entry && entry.state !== 'active') found.push(entry)
    }
    return found.sort(byId)
  }

  /**
   * A unit's runs, oldest first. A run caught between its active and ended files (a crash during
   * the move) is listed once, as ended; the stale active file is removed.
   */
  list(unit: string): RunEntry[] {
    // Active first: a run that ends between the two readings is then found in its shard.
    const active = this.activeOf(unit)
    const ended = this.shards(unit)
      .reverse()
      .flatMap((shard) => this.shardEntries(unit, shard))
    if (active.length === 0) return ended
    const endedIds = new Set(ended.map((e) => e.id))
    const live = active.filter((e) => {
      if (!endedIds.has(e.id)) return true
      this.unlinkQuietly(e)
      return false
    })
    return [...ended, ...live].sort(byId)
  }

  listAll(): RunEntry[] {
    return this.units()
      .flatMap((u) => this.list(u))
      .sort(byId)
  }

  /** A unit's newest run, from its active runs and its newest shard only. */
  latest(unit: string): RunEntry | undefined {
    const active = this.activeOf(unit).at(-1)
    const newestShard = this.shards(unit)[0]
    const ended = newestShard ? this.shardEntries(unit, newestShard).at(-1) : undefined
    if (!active) return ended
    if (!ended) return active
    return ended.id >= active.id ? ended : active
  }

  /**
   * A unit's runs newest first, read shard by shard only as far as the caller iterates: the
   * newest twenty of a hundred thousand cost a listing of the newest shards.
   */
  *newest(unit: string): Generator<RunEntry> {
    const active = this.activeOf(unit).reverse()
    let a = 0
    for (const shard of this.shards(unit)) {
      const entries = this.shardEntries(unit, shard)
      for (let i = entries.length - 1; i >= 0; i--) {
        while (a < active.length && active[a].id > entries[i].id) yield active[a++]
        // A run caught between its active and ended files is the ended one.
        if (a < active.length && active[a].id === entries[i].id) a++
        yield entries[i]
      }
    }
    while (a < active.length) yield active[a++]
  }

  /** Every unit's runs merged, newest first, as lazily as newest(). */
  *newestAll(): Generator<RunEntry> {
    const heads = this.units()
      .map((u) => this.newest(u))
      .map((it) => ({it, next: it.next()}))
      .filter((h) => !h.next.done)
    while (heads.length) {
      let best = 0
      for (let i = 1; i < heads.length; i++) if ((heads[i].next.value as RunEntry).id > (heads[best].next.value as RunEntry).id) best = i
      yield heads[best].next.value as RunEntry
      heads[best].next = heads[best].it.next()
      if (heads[best].next.done) heads.splice(best, 1)
    }
  }

  findById(id: string): RunEntry | undefined {
    if (!ULID_PATTERN.test(id)) return undefined
    for (const unit of this.units()) {
      const entry = this.find(unit, id)
      if (entry) return entry
    }
    return undefined
  }

  /** One run of a unit: its shard is known from its id, so this reads two short listings. */
  find(unit: string, id: string): RunEntry | undefined {
    const shard = id.slice(0, SHARD_LENGTH)
    for (const file of listDir(join(this.layout.runsDir(unit), shard))) {
      // Only a record's own name counts, not the temp file of a write in progress.
      if (!file.startsWith(`${id}.`)) continue
      const entry = parseRunFileName(unit, file, shard)
      if (entry) return entry
    }
    return this.activeOf(unit).find((e) => e.id === id)
  }

  readSync(entry: RunEntry): RunRecord | undefined {
    const path = this.path(entry)
    try {
      return this.parse(entry, readFileSync(path, 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async read(entry: RunEntry): Promise<RunRecord | undefined> {
    const path = this.path(entry)
    try {
      return this.parse(entry, await readFile(path, 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  /**
   * A damaged file is set aside in corrupt/ (and reported); the record is then rebuilt from its
   * name, marked `damaged`, and written in its place, so listings and `total` stay truthful (an
   * active one as `running`: boot recovery ends it `crashed`).
   */
  private parse(entry: RunEntry, text: string): RunRecord | undefined {
    const path = this.path(entry)
    let keptAt: string | undefined
    const record = parseStateText<RunRecord & {v: number}>(text, path, {
      corruptDir: this.layout.corruptDir,
      onCorrupt: (p, problem, movedTo) => {
        keptAt = movedTo
        this.onCorrupt?.(p, problem, movedTo)
      },
    })
    if (record !== undefined && isRecordOf(record, entry)) return record
    if (record !== undefined) {
      keptAt = this.setAside(path, `not the record its name says (${entry.file})`)
    }
    const rebuilt = rebuiltRecord(entry, keptAt)
    try {
      writeFileAtomicSync(path, JSON.stringify(rebuilt))
    } catch {
      // Answered all the same; rebuilt again at the next read.
    }
    return rebuilt
  }

  private setAside(path: string, problem: string): string | undefined {
    let movedTo: string | undefined
    try {
      mkdirSync(this.layout.corruptDir, {recursive: true, mode: 0o700})
      movedTo = join(this.layout.corruptDir, `${basename(path)}.${Date.now()}`)
      renameSync(path, movedTo)
    } catch {
      movedTo = undefined
    }
    this.onCorrupt?.(path, problem, movedTo)
    return movedTo
  }

  /** Deletes a run's record and its log files together; an emptied shard goes too. */
  async remove(entry: RunEntry): Promise<void> {
    const path = this.path(entry)
    await rm(path, {force: true})
    const log = this.layout.logFile(entry.unit, entry.id)
    await rm(log, {force: true})
    await rm(olderSegmentPath(log), {force: true})
    if (entry.state !== 'active') await rmdir(dirname(path)).catch(() => {})
  }

  path(entry: RunEntry): string {
    return join(this.layout.runsDir(entry.unit), entry.file)
  }

  private activeOf(unit: string): RunEntry[] {
    const found: RunEntry[] = []
    for (const file of listDir(this.layout.runsDir(unit))) {
      if (!file.endsWith('.active.json')) continue
      const entry = parseRunFileName(unit, file)
      if (entry) found.push(entry)
    }
    return found.sort(byId)
  }

  private unlinkQuietly(entry: RunEntry): void {
    try {
      unlinkSync(this.path(entry))
    } catch {
      // already gone
    }
  }
}

function byId(a: RunEntry, b: RunEntry): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** The parsed content is the run its file name says (a truncated-then-valid or swapped file is not). */
function isRecordOf(record: RunRecord, entry: RunEntry): boolean {
  return record.id === entry.id && typeof record.status === 'string' && (entry.state === 'active' ? record.status !== 'ended' : record.end_reason === entry.state)
}

/**
 * What a record's file name still tells when its content is lost: `<id>.<triggered_by>.
 * <end_reason|active>.json` under `runs/<unit>/`. Marked `damaged`, so history stays whole and
 * truthful. An active one is taken as `running` — only a crash leaves one damaged, and boot
 * recovery then ends it `crashed` (never runs it again).
 */
function rebuiltRecord(facts: {id: string; unit: string; triggered_by: TriggerSource; state: EndReason | 'active'}, keptAt: string | undefined): RunRecord {
  const ended = facts.state !== 'active'
  const created = new Date(ulidTime(facts.id)).toISOString()
  return newRunRecord({
    id: facts.id,
    task_name: facts.unit,
    kind: facts.triggered_by === 'service' ? 'service' : 'task',
    status: ended ? 'ended' : 'running',
    end_reason: facts.state === 'active' ? null : facts.state,
    triggered_by: facts.triggered_by,
    created_at: created,
    message: `this run's record was damaged${keptAt ? ` (kept as ${keptAt})` : ''}; rebuilt from its file name: id, task, trigger source${ended ? ' and end reason' : ''} are known, the rest is lost`,
    damaged: true,
  })
}
