import type {Unit} from '../core/types.js'
import type {RunStore} from '../state/runs.js'
import {ClusterUnavailable} from '../cluster/unavailable.js'
import type {RunRecord} from '../state/run-record.js'
import type {ClusterPort} from './cluster-port.js'
import {type Refusal, isRefusal, refused} from './outcomes.js'
import {type RunOwner, endedUnstarted} from './run-owner.js'
import type {ServiceState, Supervisor} from './supervisor.js'

export const CONTROL_ACTIONS = ['stopped', 'nothing_running', 'restarted_instance', 'started', 'already_running', 'restarted'] as const
export type ControlAction = (typeof CONTROL_ACTIONS)[number]

/** What `sched stop|start|restart` and POST …/stop|start|restart answer. */
export type ControlAnswer =
  | {readonly ok: true; readonly action: ControlAction; readonly unit?: string; readonly runs?: readonly string[]; readonly state?: ServiceState}
  | Refusal

export interface ControlDeps {
  readonly owner: RunOwner
  readonly supervisor: Supervisor
  readonly store: RunStore
  unit(name: string): Unit | undefined
  /** Cluster mode: a run this node does not hold may be queued in the cluster or run by another node. */
  readonly cluster?: ClusterPort
  now(): number
}

/**
 * The operator's verbs (SPEC §9 stop, start, restart): each answers once what it did is over
 * and on disk, so the caller finds it so in the state directory.
 */
export class Control {
  constructor(private readonly deps: ControlDeps) {}

  /** A run id stops that run; a task name its active and queued runs; a service every instance. */
  stop(target: string): Promise<ControlAnswer> {
    return this.deps.unit(target) ? this.stopUnit(target) : this.stopRun(target)
  }

  /** Stops one run with its ladder (a queued one ends without starting); a service instance is cycled. */
  async stopRun(id: string): Promise<ControlAnswer> {
    const {owner, supervisor, store} = this.deps
    const run = owner.get(id)
    if ((!run || run.isEnded) && this.deps.cluster) return this.stopInCluster(this.deps.cluster, id)
    if (!run || run.isEnded) {
      const onDisk = store.findById(id)
      if (onDisk) return refused('conflict', `run ${id} is not running (${onDisk.state === 'active' ? 'pending' : onDisk.state})`)
      return refused('unknown', `no task, service or run named "${id}"`)
    }
    if (run.record.kind === 'task') {
      owner.stopRun(id)
      await run.ended
      await run.durable()
      return {ok: true, action: 'stopped', runs: [id]}
    }
    const unit = this.deps.unit(run.record.task_name)
    if (unit && !unit.api_trigger) return forbidden(unit)
    // One instance of a service: it is cycled, the service keeps its instances.
    if (!(await supervisor.cycleInstance(run.record.task_name, id))) {
      run.stop('operator')
      await run.ended
    }
    await run.durable()
    return {ok: true, action: 'restarted_instance', unit: run.record.task_name, runs: [id]}
  }

  /**
   * A run this node does not hold: a queued one ends at once; one running on another node is
   * asked of that node (through the database), and the answer comes once it has been asked.
   */
  private async stopInCluster(cluster: ClusterPort, id: string): Promise<ControlAnswer> {
    const end = (record: RunRecord) => endedUnstarted(record, 'stopped', 'stopped by an operator before it started', this.deps.now())
    let outcome
    try {
      outcome = await cluster.stopRun(id, 'operator', end)
    } catch (error) {
      if (error instanceof ClusterUnavailable) return refused('unavailable', error.message)
      throw error
    }
    if (outcome.result !== 'not_active') return {ok: true, action: 'stopped', runs: [id]}
    const known = await cluster.getRun(id)
    if (known) return refused('conflict', `run ${id} is not running (${known.end_reason ?? known.status})`)
    return refused('unknown', `no task, service or run named "${id}"`)
  }

  /** A task's runs this node does not hold: queued ones end at once, others are asked of their nodes. */
  private async stopElsewhere(cluster: ClusterPort, task: string): Promise<string[] | Refusal> {
    let ids: string[]
    try {
      ids = (await cluster.unfinishedRuns(task)).filter((id) => !this.deps.owner.get(id))
    } catch (error) {
      if (error instanceof ClusterUnavailable) return refused('unavailable', `${error.message}: this node's runs of ${task} are stopping, other nodes' could not be asked`)
      throw error
    }
    const stopped: string[] = []
    for (const id of ids) {
      const answer = await this.stopInCluster(cluster, id)
      if (answer.ok) stopped.push(id)
    }
    return stopped
  }

  /** A task's active and queued runs, or every instance of a service (which stays stopped). */
  async stopUnit(name: string): Promise<ControlAnswer> {
    const {owner, supervisor} = this.deps
    const unit = this.deps.unit(name)
    if (!unit) return refused('unknown', `no task or service named "${name}"`)
    if (unit.kind === 'service') {
      if (!unit.api_trigger) return forbidden(unit)
      await supervisor.stop(unit.name)
      return {ok: true, action: 'stopped', unit: unit.name, state: supervisor.state(unit.name)}
    }
    // In a cluster the runs this node does not hold go first: the queue is emptied before this
    // node's runs end and free a slot for a queued one.
    const elsewhere = this.deps.cluster ? await this.stopElsewhere(this.deps.cluster, unit.name) : []
    const runs = owner
      .stopTask(unit.name)
      .map((id) => owner.get(id))
      .filter((r) => r !== undefined)
    if (isRefusal(elsewhere)) return elsewhere
    await Promise.all(runs.map((r) => r.ended.then(() => r.durable())))
    const ids = [...runs.map((r) => r.id), ...elsewhere]
    return {ok: true, action: ids.length ? 'stopped' : 'nothing_running', unit: unit.name, runs: ids}
  }

  /** `sched start`: a stopped, FATAL or autostart = false service comes up (FATAL cleared). */
  start(name: string): ControlAnswer {
    const {supervisor} = this.deps
    const unit = this.service(name, 'tasks start with sched trigger')
    if (isRefusal(unit)) return unit
    const done = supervisor.start(name)
    return {ok: true, action: done === 'running' ? 'already_running' : 'started', unit: name, state: supervisor.state(name)}
  }

  /** `sched restart`: every instance of a service cycled with its stop ladder. */
  async restart(name: string): Promise<ControlAnswer> {
    const unit = this.service(name, 'restart applies to services')
    if (isRefusal(unit)) return unit
    await this.deps.supervisor.restart(name)
    return {ok: true, action: 'restarted', unit: name, state: this.deps.supervisor.state(name)}
  }

  private service(name: string, forTasks: string): Unit | Refusal {
    const unit = this.deps.unit(name)
    if (!unit) return refused('unknown', `no service named "${name}"`)
    if (unit.kind !== 'service') return refused('conflict', `"${name}" is a task; ${forTasks}`)
    if (!unit.api_trigger) return forbidden(unit)
    return unit
  }
}

function forbidden(unit: Unit): Refusal {
  return refused('forbidden', `service "${unit.name}" has api_trigger = false: it cannot be stopped, started or restarted by hand`)
}
