import type {EventEmitter} from 'node:events'
import type {Clock, TimerHandle} from '../core/clock.js'
import {type RunRecord, publicRun} from '../state/run-record.js'
import type {RunEntry, RunStore} from '../state/runs.js'
import type {ClusterPort} from './cluster-port.js'
import {RunIndex} from './run-index.js'
import type {RunOwner} from './run-owner.js'
import type {ServiceState, Supervisor} from './supervisor.js'

/**
 * The runs as the API reads them while the daemon serves: the index of every run (built at
 * boot, kept current from run events, trimmed by retention), records from memory while a run is
 * live and from disk after, and the lifecycle events.
 */
export class RunView {
  private readonly index = new RunIndex()

  constructor(
    private readonly owner: RunOwner,
    private readonly supervisor: Supervisor,
    private readonly store: RunStore,
    private readonly clock: Clock,
    /** Emits `disk.full` ({error}) when run records stop reaching the disk for want of space. */
    private readonly disk: EventEmitter,
    /** Cluster mode: every node's runs are in the database, the truth once a run is not live here. */
    private readonly cluster?: Pick<ClusterPort, 'getRun'>,
  ) {
    owner.on('run.created', (record: RunRecord) => this.index.upsert(record))
    owner.on('run.ended', (record: RunRecord) => this.index.upsert(record))
    owner.on('run.discarded', (record: RunRecord) => this.index.remove(new Set([record.id])))
  }

  load(entries: readonly RunEntry[]): void {
    this.index.load(entries)
  }

  forget(ids: ReadonlySet<string>): void {
    this.index.remove(ids)
  }

  /** Every run, oldest first. */
  entries(): readonly RunEntry[] {
    return this.index.all()
  }

  /** The record of a run: from memory while it is live, else from disk. */
  async record(id: string): Promise<RunRecord | undefined> {
    const live = this.owner.get(id)
    if (live) return live.record
    const shared = await this.cluster?.getRun(id)
    if (shared) return shared
    const entry = this.index.find(id)
    return entry ? this.store.read(entry) : undefined
  }

  /** Resolves when the run has ended and its record is on disk, or after `limitMs`. */
  async waitForEnd(id: string, limitMs: number): Promise<void> {
    const run = this.owner.get(id)
    if (!run) return
    let timer: TimerHandle | undefined
    await Promise.race([run.ended.then(() => run.durable()), new Promise<void>((resolve) => (timer = this.clock.setTimer(limitMs, resolve)))])
    timer?.cancel()
  }

  /**
   * Lifecycle events for GET /api/events: run.created, run.started, run.ended (the run) and
   * service.state ({name, status, instances}), disk.full ({error}). Returns the unsubscribe function.
   */
  onEvent(listener: (event: string, data: unknown) => void): () => void {
    const forRun = (event: string) => (record: RunRecord) => listener(event, publicRun(record))
    const handlers = [['run.created', forRun('run.created')], ['run.started', forRun('run.started')], ['run.ended', forRun('run.ended')]] as const
    for (const [event, fn] of handlers) this.owner.on(event, fn)
    const onService = (name: string, state?: ServiceState) => {
      if (state) listener('service.state', {name, ...state})
    }
    this.supervisor.on('service.state', onService)
    const onDisk = (error: string) => listener('disk.full', {error})
    this.disk.on('disk.full', onDisk)
    return () => {
      for (const [event, fn] of handlers) this.owner.off(event, fn)
      this.supervisor.off('service.state', onService)
      this.disk.off('disk.full', onDisk)
    }
  }

  /** Calls `fn` once when the run ends. Returns the unsubscribe function. */
  onRunEnded(id: string, fn: () => void): () => void {
    const listener = (record: RunRecord) => {
      if (record.id !== id) return
      this.owner.off('run.ended', listener)
      fn()
    }
    this.owner.on('run.ended', listener)
    return () => this.owner.off('run.ended', listener)
  }
}
