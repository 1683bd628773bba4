import {mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync} from 'node:fs'
import {mkdir, readFile, rm, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {END_REASONS, type EndReason, TRIGGER_SOURCES, type TriggerSource} from '../core/types.js'
import {ULID_PATTERN} from '../core/ulid.js'
import {writeFileAtomic, writeFileAtomicSync} from './atomic.js'
import {type CorruptReport, parseStateText} from './json-file.js'
import type {StateLayout} from './layout.js'
import type {RunRecord} from './run-record.js'

/**
 * Run records on disk. The file name carries what listings filter on —
 * `<id>.<triggered_by>.<end_reason|active>.json` — so "newest failed cron runs of backup" or
 * "every run still active at boot" is a directory listing, and only the records shown are read.
 */
export interface RunEntry {
  readonly id: string
  readonly unit: string
  readonly triggered_by: TriggerSource
  /** `active` while pending or running, else the end reason. */
  readonly state: EndReason | 'active'
  readonly file: string
}

const STATES: ReadonlySet<string> = new Set([...END_REASONS, 'active'])
const SOURCES: ReadonlySet<string> = new Set(TRIGGER_SOURCES)

export function runFileName(record: Pick<RunRecord, 'id' | 'triggered_by' | 'status' | 'end_reason'>): string {
  const state = record.status === 'ended' ? record.end_reason : 'active'
  return `${record.id}.${record.triggered_by}.${state}.json`
}

export function parseRunFileName(unit: string, file: string): RunEntry | undefined {
  const parts = file.split('.')
  if (parts.length !== 4 || parts[3] !== 'json') return undefined
  const [id, source, state] = parts
  if (!ULID_PATTERN.test(id) || !SOURCES.has(source) || !STATES.has(state)) return undefined
  return {id, unit, triggered_by: source as TriggerSource, state: state as RunEntry['state'], file}
}

export class RunStore {
  /** Unit folders known to exist: one mkdir per unit, not one per write. */
  private readonly dirs = new Set<string>()

  constructor(
    readonly layout: StateLayout,
    private readonly onCorrupt?: CorruptReport,
  ) {}

  /** Writes the record under its current name and removes the file of its previous state. */
  async save(record: RunRecord, previous?: RunEntry): Promise<RunEntry> {
    const dir = this.layout.runsDir(record.task_name)
    if (!this.dirs.has(dir)) {
      await mkdir(dir, {recursive: true, mode: 0o700})
      this.dirs.add(dir)
    }
    const file = runFileName(record)
    await writeFileAtomic(join(dir, file), JSON.stringify(record))
    if (previous && previous.file !== file) await unlink(join(dir, previous.file)).catch(() => {})
    return {id: record.id, unit: record.task_name, triggered_by: record.triggered_by, state: record.status === 'ended' ? record.end_reason! : 'active', file}
  }

  saveSync(record: RunRecord, previous?: RunEntry): RunEntry {
    const dir = this.layout.runsDir(record.task_name)
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const file = runFileName(record)
    writeFileAtomicSync(join(dir, file), JSON.stringify(record))
    if (previous && previous.file !== file) {
      try {
        unlinkSync(join(dir, previous.file))
      } catch {
        // already gone
      }
    }
    return {id: record.id, unit: record.task_name, triggered_by: record.triggered_by, state: record.status === 'ended' ? record.end_reason! : 'active', file}
  }

  units(): string[] {
    try {
      return readdirSync(this.layout.runsRoot)
    } catch {
      return []
    }
  }

  /**
   * A unit's runs, oldest first. A run caught between its active and ended files (a crash
   * during the rename) is listed once, as ended; the stale active file is removed.
   */
  list(unit: string): RunEntry[] {
    let files: string[]
    try {
      files = readdirSync(this.layout.runsDir(unit))
    } catch {
      return []
    }
    const byId = new Map<string, RunEntry>()
    for (const file of files) {
      const entry = parseRunFileName(unit, file)
      if (!entry) continue
      const other = byId.get(entry.id)
      if (other) {
        const [stale, kept] = entry.state === 'active' ? [entry, other] : [other, entry]
        this.unlinkQuietly(stale)
        byId.set(entry.id, kept)
      } else {
        byId.set(entry.id, entry)
      }
    }
    return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  /** A unit's newest run, found without parsing or sorting the whole listing. */
  latest(unit: string): RunEntry | undefined {
    let files: string[]
    try {
      files = readdirSync(this.layout.runsDir(unit))
    } catch {
      return undefined
    }
    let best: RunEntry | undefined
    for (const file of files) {
      if (best && file.slice(0, 26) < best.id) continue
      const entry = parseRunFileName(unit, file)
      // The same id twice is a crash between a run's active and ended files: ended wins.
      if (entry && (!best || entry.id > best.id || best.state === 'active')) best = entry
    }
    return best
  }

  /** Runs still pending or running, in every unit, oldest first. */
  listActive(): RunEntry[] {
    const found: RunEntry[] = []
    for (const unit of this.units()) {
      let files: string[]
      try {
        files = readdirSync(this.layout.runsDir(unit))
      } catch {
        continue
      }
      for (const file of files) {
        if (!file.endsWith('.active.json')) continue
        const entry = parseRunFileName(unit, file)
        if (entry) found.push(entry)
      }
    }
    return found.sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  listAll(): RunEntry[] {
    return this.units()
      .flatMap((u) => this.list(u))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  findById(id: string): RunEntry | undefined {
    if (!ULID_PATTERN.test(id)) return undefined
    for (const unit of this.units()) {
      const entry = this.list(unit).find((e) => e.id === id)
      if (entry) return entry
    }
    return undefined
  }

  readSync(entry: RunEntry): RunRecord | undefined {
    const path = this.path(entry)
    try {
      return parseStateText<RunRecord & {v: number}>(readFileSync(path, 'utf8'), path, this.readOptions())
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async read(entry: RunEntry): Promise<RunRecord | undefined> {
    const path = this.path(entry)
    try {
      return parseStateText<RunRecord & {v: number}>(await readFile(path, 'utf8'), path, this.readOptions())
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  /** Deletes a run's record and its log files together. */
  async remove(entry: RunEntry): Promise<void> {
    await rm(this.path(entry), {force: true})
    const log = this.layout.logFile(entry.unit, entry.id)
    await rm(log, {force: true})
    await rm(`${log}.1`, {force: true})
  }

  removeSync(entry: RunEntry): void {
    rmSync(this.path(entry), {force: true})
    const log = this.layout.logFile(entry.unit, entry.id)
    rmSync(log, {force: true})
    rmSync(`${log}.1`, {force: true})
  }

  path(entry: RunEntry): string {
    return join(this.layout.runsDir(entry.unit), entry.file)
  }

  private readOptions() {
    return {corruptDir: this.layout.corruptDir, onCorrupt: this.onCorrupt}
  }

  private unlinkQuietly(entry: RunEntry): void {
    try {
      unlinkSync(this.path(entry))
    } catch {
      // already gone
    }
  }
}
