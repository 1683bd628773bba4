import type {EventEmitter} from 'node:events'
import type {DiskHealth} from '../state/durable-records.js'
import type {RunRecord} from '../state/run-record.js'

/** Cron lateness buckets, in seconds. */
const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]

export interface MetricCounters {
  readonly runs: readonly {readonly task: string; readonly endReason: string; readonly n: number}[]
  readonly logBytes: ReadonlyMap<string, number>
  readonly restarts: ReadonlyMap<string, number>
  readonly lateness: {readonly buckets: readonly {readonly le: number; readonly n: number}[]; readonly count: number; readonly sum: number}
}

export interface Gauges {
  readonly active: ReadonlyMap<string, number>
  readonly queued: ReadonlyMap<string, number>
  readonly fatal: ReadonlyMap<string, number>
  readonly disk: DiskHealth
}

/**
 * Counters for GET /metrics, fed by run events since the daemon started (Prometheus counters
 * reset with the process); gauges are read from the engine at scrape time, and the text is made
 * by src/api/metrics-text.ts.
 */
export class Metrics {
  private readonly runs = new Map<string, number>()
  private readonly logBytes = new Map<string, number>()
  private readonly restarts = new Map<string, number>()
  private readonly lateness = new Array<number>(LATENESS_BUCKETS.length).fill(0)
  private latenessCount = 0
  private latenessSum = 0

  /** Counts from the run owner's and the supervisor's events from now on. */
  watch(owner: EventEmitter, supervisor: EventEmitter): void {
    supervisor.on('service.restart', (name: string) => this.restarted(name))
    owner.on('run.started', (record: RunRecord) => this.started(record))
    owner.on('run.ended', (record: RunRecord) => this.ended(record))
  }

  ended(record: RunRecord): void {
    const key = `${record.task_name}\u0000${record.end_reason}`
    this.runs.set(key, (this.runs.get(key) ?? 0) + 1)
    if (record.log_bytes) this.logBytes.set(record.task_name, (this.logBytes.get(record.task_name) ?? 0) + record.log_bytes)
  }

  started(record: RunRecord): void {
    if (record.triggered_by !== 'cron' || !record.scheduled_at || !record.started_at) return
    const seconds = Math.max(0, Date.parse(record.started_at) - Date.parse(record.scheduled_at)) / 1000
    this.latenessCount++
    this.latenessSum += seconds
    LATENESS_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.lateness[i]++
    })
  }

  restarted(service: string): void {
    this.restarts.set(service, (this.restarts.get(service) ?? 0) + 1)
  }

  /** The counters as they are now, for GET /metrics. */
  snapshot(): MetricCounters {
    return {
      runs: [...this.runs].map(([key, n]) => {
        const [task, reason] = key.split('\u0000')
        return {task, endReason: reason, n}
      }),
      logBytes: this.logBytes,
      restarts: this.restarts,
      lateness: {buckets: LATENESS_BUCKETS.map((le, i) => ({le, n: this.lateness[i]})), count: this.latenessCount, sum: this.latenessSum},
    }
  }
}
