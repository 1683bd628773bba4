import type {RunRecord} from '../state/run-record.js'

/** Cron lateness buckets, in seconds. */
const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]

export interface Gauges {
  readonly active: ReadonlyMap<string, number>
  readonly queued: ReadonlyMap<string, number>
  readonly fatal: ReadonlyMap<string, number>
}

/**
 * Counters for GET /metrics, fed by run events since the daemon started (Prometheus counters
 * reset with the process); gauges are read from the engine at scrape time.
 */
export class Metrics {
  private readonly runs = new Map<string, number>()
  private readonly logBytes = new Map<string, number>()
  private readonly restarts = new Map<string, number>()
  private readonly lateness = new Array<number>(LATENESS_BUCKETS.length).fill(0)
  private latenessCount = 0
  private latenessSum = 0

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

  render(gauges: Gauges, memory: NodeJS.MemoryUsage, startedAt: number): string {
    const out: string[] = []
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    family('sched_runs_total', 'counter', 'Runs ended since the daemon started, by task and end reason.')
    for (const [key, n] of this.runs) {
      const [task, reason] = key.split('\u0000')
      out.push(`sched_runs_total{task="${label(task)}",end_reason="${reason}"} ${n}`)
    }
    family('sched_active_runs', 'gauge', 'Runs currently running, by task or service.')
    for (const [task, n] of gauges.active) out.push(`sched_active_runs{task="${label(task)}"} ${n}`)
    family('sched_queue_depth', 'gauge', 'Runs waiting in a task queue.')
    for (const [task, n] of gauges.queued) out.push(`sched_queue_depth{task="${label(task)}"} ${n}`)
    family('sched_service_restarts_total', 'counter', 'Service instance restarts since the daemon started.')
    for (const [service, n] of this.restarts) out.push(`sched_service_restarts_total{service="${label(service)}"} ${n}`)
    family('sched_service_fatal_instances', 'gauge', 'Service instances in FATAL.')
    for (const [service, n] of gauges.fatal) out.push(`sched_service_fatal_instances{service="${label(service)}"} ${n}`)
    family('sched_cron_lateness_seconds', 'histogram', 'How late cron runs started after their tick.')
    LATENESS_BUCKETS.forEach((le, i) => out.push(`sched_cron_lateness_seconds_bucket{le="${le}"} ${this.lateness[i]}`))
    out.push(`sched_cron_lateness_seconds_bucket{le="+Inf"} ${this.latenessCount}`)
    out.push(`sched_cron_lateness_seconds_sum ${this.latenessSum}`, `sched_cron_lateness_seconds_count ${this.latenessCount}`)
    family('sched_log_bytes_total', 'counter', 'Bytes of run output written to logs since the daemon started.')
    for (const [task, n] of this.logBytes) out.push(`sched_log_bytes_total{task="${label(task)}"} ${n}`)
    family('sched_daemon_memory_bytes', 'gauge', 'Memory of the daemon process.')
    out.push(`sched_daemon_memory_bytes{type="rss"} ${memory.rss}`, `sched_daemon_memory_bytes{type="heap_used"} ${memory.heapUsed}`)
    family('sched_daemon_start_time_seconds', 'gauge', 'When the daemon started, in unix seconds.')
    out.push(`sched_daemon_start_time_seconds ${Math.floor(startedAt / 1000)}`)
    return `${out.join('\n')}\n`
  }
}

/** Label values escape backslash, quote and newline (names cannot hold the latter two, but be exact). */
export function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
