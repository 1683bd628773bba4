import type {Config} from '../config/load.js'
import {TaskJsonTemplate} from '../config/task-json.js'
import type {Daemon} from '../engine/daemon.js'
import {unitStates} from '../engine/unit-state.js'
import {unreachableAs503} from './cluster-problem.js'

/**
 * The bodies of GET /api/tasks and GET /api/tasks/{name}, from per-unit JSON fragments made once
 * per loaded config. The whole list only changes when some next_run_at passes (or on reload),
 * so it is kept, encoded, until then.
 */
export class TaskBodies {
  private config?: Config
  private templates = new Map<string, TaskJsonTemplate>()
  private list?: {body: Buffer; until: number; config: Config}

  constructor(private readonly daemon: Daemon) {}

  /** Every unit, sorted by name (the config's order). */
  all(): Buffer {
    const config = this.current()
    const now = this.daemon.now()
    if (this.list && this.list.config === config && now < this.list.until) return this.list.body
    let until = Infinity
    const parts: string[] = []
    for (const unit of config.units) {
      const next = this.daemon.nextRunAt(unit)
      if (next !== undefined && next < until) until = next
      parts.push(this.templates.get(unit.name)!.render(next))
    }
    this.list = {body: Buffer.from(`[${parts.join(',')}]`), until, config}
    return this.list.body
  }

  /** One unit plus its live `state` (in a cluster, the cluster's counts); undefined for an unknown name. */
  async one(name: string): Promise<string | undefined> {
    this.current()
    const unit = this.daemon.unit(name)
    if (!unit) return undefined
    const {owner, supervisor, cluster} = this.daemon
    const state = (await unreachableAs503(unitStates([unit], owner, supervisor, cluster))).get(name)
    const task = this.templates.get(name)!.render(this.daemon.nextRunAt(unit))
    return `${task.slice(0, -1)},"state":${JSON.stringify(state)}}`
  }

  private current(): Config {
    const config = this.daemon.config
    if (config !== this.config) {
      this.config = config
      this.templates = new Map(config.units.map((u) => [u.name, TaskJsonTemplate.of(u)]))
    }
    return config
  }
}
