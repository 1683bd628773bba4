import type {StateLayout} from '../state/layout.js'
import type {PublicRun} from '../state/run-record.js'
import {DaemonApi} from './daemon-api.js'

/** What /api/daemon says of a cluster node (src/api/routes/daemon.ts). */
export interface ClusterNodeInfo {
  readonly node: string
  readonly healthy: boolean
  readonly config_hash: string
  readonly cluster_config_hash: string | null
  readonly config_matches: boolean
}

interface OverviewUnit {
  readonly name: string
  readonly state: {status: string; instances: readonly unknown[]}
  readonly last_run: PublicRun | null
}

/**
 * `sched status` on a cluster node: the state directory holds no run records there, so the runs
 * come from the daemon, which reads the cluster (every node's runs). Undefined when the daemon is
 * not a cluster node.
 */
export async function clusterStatus(layout: StateLayout): Promise<{cluster: ClusterNodeInfo; active: PublicRun[]; units: Map<string, OverviewUnit>} | undefined> {
  const api = DaemonApi.connect(layout, 'sched status')
  const {cluster} = await api.json<{cluster?: ClusterNodeInfo}>('/api/daemon')
  if (!cluster) return undefined
  const [running, overview] = await Promise.all([
    api.json<{runs: PublicRun[]}>('/api/runs?status=running&limit=1000'),
    api.json<{units: OverviewUnit[]}>('/api/overview?runs=1'),
  ])
  return {cluster, active: running.runs, units: new Map(overview.units.map((u) => [u.name, u]))}
}
