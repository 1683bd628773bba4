import type {Clock} from '../core/clock.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {RecordWriter} from '../engine/run.js'
import type {RunRecord} from '../state/run-record.js'
import {type RunEntry, entryOf} from '../state/runs.js'
import {type ClusterDb, ClusterUnavailable, reconnectDelayMs} from './db.js'
import {type Owner, getRun, insertRun, saveRun} from './runs.js'

/**
 * The engine's RecordWriter in cluster mode: a run's record goes to sched.runs, written only by
 * the node (and incarnation) that owns the run. A run admitted here was inserted by admission; a
 * record the engine makes on its own (`missed`, `dst_skipped`) is inserted on its first write.
 * A fenced write (a reaper ended the run `crashed` while this node was cut off) leaves the
 * database's record as the truth. `save` keeps a write the database cannot take and retries it
 * with backoff until it lands, or until `close()` (a daemon stopping must not wait for the
 * database: the run's record stays as the database has it, and another node ends it `crashed`
 * a lease later); `attempt` fails at once, so a run is never launched unrecorded.
 */
export class ClusterRunWriter implements RecordWriter {
  private closed = false
  private readonly waits = new Set<() => void>()

  constructor(
    private readonly db: ClusterDb,
    private readonly me: Owner,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async attempt(record: RunRecord): Promise<RunEntry> {
    if (await this.write(record)) return entryOf(record)
    throw new Error(`run ${record.id} is no longer this node's to write (another node ended it)`)
  }

  async save(record: RunRecord): Promise<RunEntry> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!(await this.write(record))) this.logger.warn('cluster.write_fenced', {run: record.id, task: record.task_name})
        return entryOf(record)
      } catch (error) {
        if (!(error instanceof ClusterUnavailable)) this.logger.error('run.write_failed', {run: record.id, error: errorMessage(error)})
        if (this.closed) {
          this.logger.error('cluster.write_given_up', {run: record.id, task: record.task_name, status: record.end_reason ?? record.status})
          return entryOf(record)
        }
        await this.wait(reconnectDelayMs(attempt))
      }
    }
  }

  /** Kept writes stop waiting for the database: each makes one last attempt and is given up. */
  close(): void {
    this.closed = true
    for (const wake of [...this.waits]) wake()
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.waits.delete(wake)
        timer.cancel()
        resolve()
      }
      const timer = this.clock.setTimer(ms, wake)
      this.waits.add(wake)
    })
  }

  /** True when written; false when fenced off (the run exists and is not ours to change). */
  private async write(record: RunRecord): Promise<boolean> {
    if (await saveRun(this.db, record, this.me)) return true
    if (await getRun(this.db, record.id)) return false
    await insertRun(this.db, record, this.me)
    return true
  }
}
