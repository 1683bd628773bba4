import type {Clock, TimerHandle} from '../core/clock.js'
import {describeWriteError} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import {FileNotWritten} from './record-journal.js'
import type {RunRecord} from './run-record.js'
import {type RunEntry, entryOf} from './runs.js'

/** Where records go (the group-commit journal): rejects when the disk refuses. */
export interface RecordSink {
  /** `onDurable` is called once the record would survive a crash, before it is in its own file. */
  save(record: RunRecord, previous?: RunEntry, onDurable?: () => void): Promise<RunEntry>
}

/** The state directory's health as the daemon sees it, for /metrics. */
export interface DiskHealth {
  /** Record writes fail now (from the first failure until every kept record is written). */
  readonly failing: boolean
  /** Records kept in memory because the disk refused them. */
  readonly kept: number
  /** Failed write attempts since the start, retries included. */
  readonly failures: number
}

export interface DurableRecordsOptions {
  readonly clock: Clock
  readonly logger: Logger
  /** Told once each time writes start failing for want of space (the `disk.full` notification). */
  readonly onDiskFull?: (error: string) => void
  /** First retry delay; doubles after each failed round up to maxRetryMs. */
  readonly firstRetryMs?: number
  readonly maxRetryMs?: number
}

interface Kept {
  record: RunRecord
  /** The run's name on disk now, replaced when the record finally lands. */
  previous?: RunEntry
  readonly waiters: {resolve(entry: RunEntry): void; reject(error: unknown): void}[]
}

const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 10_000
const SPACE_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT'])

/**
 * The one owner of "run records not yet durable". A write the disk refuses (full, read-only,
 * failing) is kept in memory — the latest state of each run — and retried with backoff on the
 * injected clock, and at once when any other write succeeds (space came back); `save` resolves
 * only when the record is on disk, so a run stays in the owner's memory, answered truthfully,
 * until then. `attempt` is the one-shot write for records that gate an action (a run is recorded
 * `running` before its process starts): it fails instead of waiting.
 *
 * The daemon log says once that writes fail (`disk.full`, or `disk.write_failing` for anything
 * but a full disk) and once that they succeed again (`disk.recovered`), never once per write.
 */
export class DurableRecords {
  private readonly kept = new Map<string, Kept>()
  private failing = false
  private failures = 0
  private delay: number
  private timer?: TimerHandle
  private retrying = false
  private closed = false
  private readonly firstRetryMs: number
  private readonly maxRetryMs: number

  constructor(
    private readonly sink: RecordSink,
    private readonly options: DurableRecordsOptions,
  ) {
    this.firstRetryMs = options.firstRetryMs ?? FIRST_RETRY_MS
    this.maxRetryMs = options.maxRetryMs ?? MAX_RETRY_MS
    this.delay = this.firstRetryMs
  }

  health(): DiskHealth {
    return {failing: this.failing, kept: this.kept.size, failures: this.failures}
  }

  /**
   * One write, not kept when it fails (the caller refuses what it was about to do). A record that
   * is durable in the journal but whose own file was refused counts as written — the next boot
   * would write that file, so it must not be refused — and its file is retried like a kept save.
   * `onDurable` is called as soon as the record would survive a crash; never when it is refused.
   */
  async attempt(record: RunRecord, previous?: RunEntry, onDurable?: () => void): Promise<RunEntry> {
    try {
      const entry = await this.sink.save(record, previous, onDurable)
      this.succeeded()
      return entry
    } catch (error) {
      this.failed(error)
      if (!(error instanceof FileNotWritten)) throw error
      // Given up at close (and said in the log there).
      this.keep(record, previous).catch(() => {})
      return entryOf(record)
    }
  }

  /** Resolves once the record is on disk; a refused write is kept and retried until it lands. */
  save(record: RunRecord, previous?: RunEntry): Promise<RunEntry> {
    const kept = this.kept.get(record.id)
    if (kept) {
      // A newer state of a run already waiting: only the latest needs to land.
      kept.record = record
      return new Promise((resolve, reject) => kept.waiters.push({resolve, reject}))
    }
    if (this.closed) return this.sink.save(record, previous)
    return this.sink.save(record, previous).then(
      (entry) => {
        this.succeeded()
        return entry
      },
      (error: unknown) => {
        this.failed(error)
        return this.keep(record, previous)
      },
    )
  }

  /** Keeps the record for the retry rounds; resolves when it lands. */
  private keep(record: RunRecord, previous?: RunEntry): Promise<RunEntry> {
    // Raced with another save of the same run that was kept meanwhile.
    if (this.kept.has(record.id)) return this.save(record, previous)
    return new Promise<RunEntry>((resolve, reject) => {
      this.kept.set(record.id, {record, previous, waiters: [{resolve, reject}]})
      this.scheduleRetry()
    })
  }

  /**
   * Shutdown: one last try for every kept record; those still refused are given up, their
   * savers told (the record is lost with the process: the log says which). Returns their ids.
   */
  async close(): Promise<string[]> {
    this.closed = true
    this.timer?.cancel()
    this.timer = undefined
    await this.retryKept()
    const lost = [...this.kept.keys()]
    for (const kept of this.kept.values()) {
      for (const w of kept.waiters) w.reject(new Error('the disk still refuses the write and the daemon is stopping'))
    }
    this.kept.clear()
    if (lost.length) this.options.logger.error('state.unwritten', {runs: lost.join(','), hint: 'these run records were never written: the state directory refused them until shutdown'})
    return lost
  }

  private succeeded(): void {
    if (this.kept.size > 0) {
      // Space came back (or the directory took writes again): flush now, not at the next backoff.
      if (!this.retrying) {
        this.timer?.cancel()
        this.timer = undefined
        void this.retryKept()
      }
      return
    }
    if (!this.failing) return
    this.failing = false
    this.delay = this.firstRetryMs
    this.options.logger.info('disk.recovered', {})
  }

  private failed(error: unknown): void {
    this.failures++
    if (this.failing) return
    this.failing = true
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    const event = code && SPACE_ERRORS.has(code) ? 'disk.full' : 'disk.write_failing'
    this.options.logger.error(event, {
      error: describeWriteError(error),
      hint: 'run records are kept in memory and written when the state directory takes writes again; a trigger that cannot be recorded is refused',
    })
    if (event === 'disk.full') this.options.onDiskFull?.(describeWriteError(error))
  }

  private scheduleRetry(): void {
    if (this.timer || this.retrying || this.closed) return
    this.timer = this.options.clock.setTimer(this.delay, () => {
      this.timer = undefined
      void this.retryKept()
    })
  }

  /** Kept records oldest first; the first refusal ends the round (the disk is still full) and backs off. */
  private async retryKept(): Promise<void> {
    if (this.retrying) return
    this.retrying = true
    let refused = false
    try {
      for (const [id, kept] of [...this.kept].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const record = kept.record
        let entry: RunEntry
        try {
          entry = await this.sink.save(record, kept.previous)
        } catch {
          this.failures++
          refused = true
          break
        }
        kept.previous = entry
        // A newer state may have arrived while this one was written: it goes in the next round.
        if (kept.record !== record) continue
        this.kept.delete(id)
        for (const w of kept.waiters) w.resolve(entry)
      }
    } finally {
      this.retrying = false
    }
    if (refused) {
      this.delay = Math.min(this.delay * 2, this.maxRetryMs)
      this.scheduleRetry()
    } else if (this.kept.size > 0) {
      void this.retryKept()
    } else {
      this.succeeded()
    }
  }
}
