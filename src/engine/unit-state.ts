import type {Unit} from '../core/types.js'
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
  const {active, queued} = owner.occupancy(unit.name)
  return {status: active > 0 ? 'running' : queued > 0 ? 'queued' : 'idle', active_runs: active, queued, instances: []}
}
