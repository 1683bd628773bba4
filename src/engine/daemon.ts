import type {Config} from '../config/load.js'
import {TaskJsonTemplate} from '../config/task-json.js'
import type {Clock} from '../core/clock.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import type {StateLayout} from '../state/layout.js'
import {NextRuns} from './next-runs.js'

export interface DaemonOptions {
  readonly config: Config
  readonly layout: StateLayout
  readonly clock: Clock
  readonly logger: Logger
  /** When the daemon started (the claim's time): `@every` schedules count from it. */
  readonly startedAt: number
}

/** What GET /api/tasks/{name} adds to the task object. */
export interface UnitState {
  readonly status: string
  readonly active_runs: number
  readonly queued: number
  readonly instances: readonly unknown[]
}

/**
 * The engine, composed in one place: the units of the loaded config and everything that acts
 * on them. The HTTP API and the CLI request watcher call its methods; it never exits the process.
 */
export class Daemon {
  readonly startedAt: number
  private config: Config
  private units = new Map<string, Unit>()
  private templates = new Map<string, TaskJsonTemplate>()
  private nextRuns: NextRuns

  constructor(private readonly options: DaemonOptions) {
    this.startedAt = options.startedAt
    this.config = options.config
    this.nextRuns = this.adopt(options.config)
  }

  private adopt(config: Config): NextRuns {
    this.config = config
    this.units = new Map(config.units.map((u) => [u.name, u]))
    this.templates = new Map(config.units.map((u) => [u.name, new TaskJsonTemplate(u)]))
    this.nextRuns = new NextRuns(config.units, config.schedules, this.startedAt)
    return this.nextRuns
  }

  get currentConfig(): Config {
    return this.config
  }

  unit(name: string): Unit | undefined {
    return this.units.get(name)
  }

  /** The body of GET /api/tasks: every unit, sorted by name, serialised from cached fragments. */
  tasksJson(): string {
    const now = this.options.clock.now()
    const parts: string[] = []
    for (const unit of this.config.units) parts.push(this.templates.get(unit.name)!.render(this.nextRuns.nextRunAt(unit.name, now)))
    return `[${parts.join(',')}]`
  }

  /** The body of GET /api/tasks/{name}: the task object plus its live state. */
  taskJson(name: string): string | undefined {
    const unit = this.units.get(name)
    if (!unit) return undefined
    const task = this.templates.get(name)!.render(this.nextRuns.nextRunAt(name, this.options.clock.now()))
    return `${task.slice(0, -1)},"state":${JSON.stringify(this.unitState(unit))}}`
  }

  unitState(unit: Unit): UnitState {
    return {status: unit.kind === 'task' ? 'idle' : 'stopped', active_runs: 0, queued: 0, instances: []}
  }

  async start(): Promise<void> {
    this.options.logger.info('daemon.start', {units: this.config.units.length})
  }

  async stop(): Promise<void> {
    this.options.logger.info('daemon.stop')
  }
}
