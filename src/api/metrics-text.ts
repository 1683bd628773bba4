import type {ClusterReads} from '../engine/cluster-port.js'
import type {Daemon} from '../engine/daemon.js'
import type {Gauges, MetricCounters} from '../engine/metrics.js'

/**
 * GET /metrics: counters since start, gauges read now, in Prometheus text. In a cluster the
 * tasks' running and queued gauges are the cluster's (every node reports the same; this node's
 * own when the database cannot be read), beside this node's cluster gauges.
 */
export async function metricsText(daemon: Daemon): Promise<string> {
  const reads = daemon.cluster ? await daemon.cluster.reads().catch(() => undefined) : undefined
  return render(daemon.metrics.snapshot(), gauges(daemon, reads), process.memoryUsage(), daemon.startedAt) + clusterGauges(daemon.cluster, reads)
}

/** This node's view of the cluster: whether it can claim work (what /healthz answers on), and what it holds and claims. */
function clusterGauges(cluster: Daemon['cluster'], reads: ClusterReads | undefined): string {
  if (!cluster) return ''
  const node = `node="${label(cluster.node)}"`
  const {won, lost, failed} = cluster.claims
  return [
    '# HELP sched_cluster_healthy 1 while this node can claim cluster work (the database answers, the node name is its own), else 0.',
    '# TYPE sched_cluster_healthy gauge',
    `sched_cluster_healthy{${node}} ${cluster.healthy ? 1 : 0}`,
    ...(reads ? ['# HELP sched_cluster_nodes_live Nodes whose heartbeat is current.', '# TYPE sched_cluster_nodes_live gauge', `sched_cluster_nodes_live ${reads.liveNodes}`] : []),
    '# HELP sched_cluster_leases_held Service instance slots this node holds under a lease.',
    '# TYPE sched_cluster_leases_held gauge',
    `sched_cluster_leases_held{${node}} ${cluster.leasesHeld}`,
    '# HELP sched_cluster_tick_claims_total Cron ticks this node claimed (won), found claimed by another node (lost), or could not claim (failed).',
    '# TYPE sched_cluster_tick_claims_total counter',
    `sched_cluster_tick_claims_total{${node},result="won"} ${won}`,
    `sched_cluster_tick_claims_total{${node},result="lost"} ${lost}`,
    `sched_cluster_tick_claims_total{${node},result="failed"} ${failed}`,
    '',
  ].join('\n')
}

function gauges(daemon: Daemon, reads: ClusterReads | undefined): Gauges {
  const active = new Map<string, number>()
  const queued = new Map<string, number>()
  const fatal = new Map<string, number>()
  for (const unit of daemon.config.units) {
    if (unit.kind === 'task') {
      const o = reads ? (reads.occupancy.get(unit.name) ?? {active: 0, queued: 0}) : daemon.owner.occupancy(unit.name)
      active.set(unit.name, o.active)
      queued.set(unit.name, o.queued)
    } else {
      const instances = daemon.supervisor.state(unit.name)?.instances ?? []
      active.set(unit.name, instances.filter((i) => i.run_id !== null).length)
      fatal.set(unit.name, instances.filter((i) => i.status === 'fatal').length)
    }
  }
  return {active, queued, fatal, disk: daemon.diskHealth()}
}

export function render(counters: MetricCounters, gauges: Gauges, memory: NodeJS.MemoryUsage, startedAt: number): string {
  const out: string[] = []
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  family('sched_runs_total', 'counter', 'Runs ended since the daemon started, by task and end reason.')
  for (const {task, endReason, n} of counters.runs) out.push(`sched_runs_total{task="${label(task)}",end_reason="${endReason}"} ${n}`)
  family('sched_active_runs', 'gauge', 'Runs currently running, by task or service.')
  for (const [task, n] of gauges.active) out.push(`sched_active_runs{task="${label(task)}"} ${n}`)
  family('sched_queue_depth', 'gauge', 'Runs waiting in a task queue.')
  for (const [task, n] of gauges.queued) out.push(`sched_queue_depth{task="${label(task)}"} ${n}`)
  family('sched_service_restarts_total', 'counter', 'Service instance restarts since the daemon started.')
  for (const [service, n] of counters.restarts) out.push(`sched_service_restarts_total{service="${label(service)}"} ${n}`)
  family('sched_service_fatal_instances', 'gauge', 'Service instances in FATAL.')
  for (const [service, n] of gauges.fatal) out.push(`sched_service_fatal_instances{service="${label(service)}"} ${n}`)
  family('sched_cron_lateness_seconds', 'histogram', 'How late cron runs started after their tick.')
  for (const {le, n} of counters.lateness.buckets) out.push(`sched_cron_lateness_seconds_bucket{le="${le}"} ${n}`)
  out.push(`sched_cron_lateness_seconds_bucket{le="+Inf"} ${counters.lateness.count}`)
  out.push(`sched_cron_lateness_seconds_sum ${counters.lateness.sum}`, `sched_cron_lateness_seconds_count ${counters.lateness.count}`)
  family('sched_log_bytes_total', 'counter', 'Bytes of run output written to logs since the daemon started.')
  for (const [task, n] of counters.logBytes) out.push(`sched_log_bytes_total{task="${label(task)}"} ${n}`)
  family('sched_state_writes_failing', 'gauge', '1 while run record writes are refused (disk full, state directory read-only), else 0.')
  out.push(`sched_state_writes_failing ${gauges.disk.failing ? 1 : 0}`)
  family('sched_state_unwritten_records', 'gauge', 'Run records kept in memory because the disk refused them, retried until written.')
  out.push(`sched_state_unwritten_records ${gauges.disk.kept}`)
  family('sched_state_write_failures_total', 'counter', 'Refused run record writes since the daemon started, retries included.')
  out.push(`sched_state_write_failures_total ${gauges.disk.failures}`)
  family('sched_daemon_memory_bytes', 'gauge', 'Memory of the daemon process.')
  out.push(`sched_daemon_memory_bytes{type="rss"} ${memory.rss}`, `sched_daemon_memory_bytes{type="heap_used"} ${memory.heapUsed}`)
  family('sched_daemon_start_time_seconds', 'gauge', 'When the daemon started, in unix seconds.')
  out.push(`sched_daemon_start_time_seconds ${Math.floor(startedAt / 1000)}`)
  return `${out.join('\n')}\n`
}

/** Label values escape backslash, quote and newline (names cannot hold the latter two, but be exact). */
export function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
