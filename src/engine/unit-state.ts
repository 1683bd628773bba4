import type {Unit} from '../core/types.js'
import type {ClusterPort} from './cluster-port.js'
import type {RunOwner} from './run-owner.js'
import type {ServiceState, Supervisor} from './supervisor.js'

/** What GET /api/tasks/{name} adds to the task object (SPEC §11). */
export interface UnitState {
  readonly status: string
  readonly active_runs: number
  readonly queued: number
  readonly instances: ServiceState['instances']
}

/** A task: idle, running or queued; a service: its supervisor's word and its instances. */
export function unitState(unit: Unit, owner: RunOwner, supervisor: Supervisor): UnitState {
  if (unit.kind === 'service') {
    const state = supervisor.state(unit.name) ?? {status: 'stopped', instances: []}
    return {status: state.status, active_runs: state.instances.filter((i) => i.run_id !== null).length, queued: 0, instances: state.instances}
  }
  return taskState(owner.occupancy(unit.name))
}

function taskState({active, queued}: {active: number; queued: number}): UnitState {
  return {status: active > 0 ? 'running' : queued > 0 ? 'queued' : 'idle', active_runs: active, queued, instances: []}
}

/**
 * The state of each of `units` as a reader should see it: in a cluster a task's counts are the
 * cluster's, so every node answers the same (services stay this node's instances); on its own,
 * this node's.
 */
export async function unitStates(units: readonly Unit[], owner: RunOwner, supervisor: Supervisor, cluster?: Pick<ClusterPort, 'reads'>): Promise<Map<string, UnitState>> {
  const shared = cluster && units.some((u) => u.kind === 'task') ? (await cluster.reads()).occupancy : undefined
  const out = new Map<string, UnitState>()
  for (const unit of units) {
    if (!shared || unit.kind === 'service') {
      out.set(unit.name, unitState(unit, owner, supervisor))
      continue
    }
    out.set(unit.name, taskState(shared.get(unit.name) ?? {active: 0, queued: 0}))
  }
  return out
}
