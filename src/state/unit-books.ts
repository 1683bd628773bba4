import {readdirSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {writeFileAtomic} from './atomic.js'
import {STATE_FORMAT, readStateFile} from './json-file.js'
import type {StateLayout} from './layout.js'

/**
 * Per-unit bookkeeping the daemon keeps across restarts (SPEC §6): when the unit was first seen,
 * the last cron tick it handled (the catch-up anchor), and whether an operator stopped a service.
 */
export interface UnitBook {
  readonly v: number
  readonly first_seen: string
  readonly last_tick: string | null
  /**
   * A service's last known state, for `sched list` and `sched status` without a daemon. Only
   * shown while a daemon serves the directory: a restart clears operator stops and FATAL.
   */
  readonly service?: {readonly status: string; readonly instances: readonly {readonly index: number; readonly status: string; readonly pid: number | null; readonly run_id: string | null; readonly restarts: number}[]}
}

/** How long a lazy change may wait for its write. */
const LAZY_WRITE_MS = 5_000

export class UnitBooks {
  private readonly books = new Map<string, UnitBook>()
  private writing = new Map<string, Promise<void>>()
  private readonly queued = new Set<string>()
  /** Books whose last write failed. */
  private readonly refused = new Set<string>()
  /** Books changed lazily, not written yet. */
  private readonly lazy = new Set<string>()
  private lazyTimer?: NodeJS.Timeout
  /** The folder is made once, and again after a write failed (it may have gone). */
  private madeDir?: Promise<void>

  constructor(
    private readonly layout: StateLayout,
    private readonly onError?: (path: string, message: string) => void,
  ) {}

  /** Reads every book; a corrupt one is reported and set aside by the reader. */
  load(onCorrupt?: (path: string, problem: string) => void): void {
    let files: string[]
    try {
      files = readdirSync(this.layout.unitsDir)
    } catch {
      return
    }
    for (const file of files) {
      if (!file.endsWith('.json')) continue
      const name = file.slice(0, -'.json'.length)
      const book = readStateFile<UnitBook>(this.layout.unitFile(name), {corruptDir: this.layout.corruptDir, onCorrupt})
      if (book) this.books.set(name, book)
    }
  }

  get(name: string): UnitBook | undefined {
    return this.books.get(name)
  }

  /** The book for a unit, created (first seen now) if the unit is new. */
  ensure(name: string, now: number): UnitBook {
    const existing = this.books.get(name)
    if (existing) return existing
    return this.set(name, {v: STATE_FORMAT, first_seen: new Date(now).toISOString(), last_tick: null})
  }

  /**
   * Changes a book and writes it. `lazy`: written within LAZY_WRITE_MS, with every other lazy
   * change of that window — for last_tick, which the newest tick's run record (durable before the
   * tick runs) also tells: a thousand per-second tasks would otherwise cost a thousand writes a
   * second. A crash in between leaves an older last_tick, and catch-up counts from the record.
   */
  update(name: string, now: number, patch: Partial<Omit<UnitBook, 'v'>>, {lazy = false} = {}): UnitBook {
    const book = {...this.ensure(name, now), ...patch}
    if (!lazy) return this.set(name, book)
    this.books.set(name, book)
    this.lazy.add(name)
    this.lazyTimer ??= setTimeout(() => this.writeLazy(), LAZY_WRITE_MS).unref()
    return book
  }

  /** Writes what waits and resolves when every write so far is on disk (before retention deletes records, at shutdown). */
  async flush(): Promise<void> {
    this.writeLazy()
    await Promise.all(this.writing.values())
  }

  private writeLazy(): void {
    clearTimeout(this.lazyTimer)
    this.lazyTimer = undefined
    for (const name of this.lazy) this.set(name, this.books.get(name)!)
  }

  private set(name: string, book: UnitBook): UnitBook {
    this.books.set(name, book)
    this.lazy.delete(name)
    // One write in flight per book, and at most one more queued: it writes whatever the book
    // holds by then, so a burst of updates (a per-second cron task, a flapping service) costs two
    // writes, and an older state never lands after a newer one.
    if (this.queued.has(name)) return book
    const previous = this.writing.get(name) ?? Promise.resolve()
    this.queued.add(name)
    const write = previous
      .then(() => {
        this.queued.delete(name)
        this.madeDir ??= mkdir(this.layout.unitsDir, {recursive: true, mode: 0o700}).then(() => undefined)
        return this.madeDir
      })
      // Not fsynced: a per-second task over a thousand units would cost a thousand syncs a
      // second. What a power loss could take back is rebuilt from durable state: the catch-up
      // anchor is the newer of last_tick and the newest tick's run record (journaled before the
      // tick runs), and a service's state is only shown while a daemon serves the directory.
      .then(() => writeFileAtomic(this.layout.unitFile(name), JSON.stringify(this.books.get(name)), 0o600, {durable: false}))
      .then(
        () => {
          this.refused.delete(name)
        },
        (error: unknown) => {
          this.madeDir = undefined
          // Said once per book while its writes fail (a full disk would say it every tick); the
          // next update after the disk recovers writes the whole book again.
          if (this.refused.has(name)) return
          this.refused.add(name)
          this.onError?.(this.layout.unitFile(name), error instanceof Error ? error.message : String(error))
        },
      )
    this.writing.set(name, write)
    void write.then(() => {
      if (this.writing.get(name) === write) this.writing.delete(name)
    })
    return book
  }
}
