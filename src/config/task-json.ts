import type {Parameter, Unit} from '../core/types.js'

/**
 * The task object of `GET /api/tasks` (the user's API document, seed/tasks-api.txt), which
 * `sched list --json` prints too. Every seed field is present on every unit, at its effective
 * value; `compose` only on imported units and `next_run_at` only when a run is scheduled.
 */
export interface TaskObject {
  readonly [field: string]: unknown
}

export function taskObject(unit: Unit, nextRunAt?: number): TaskObject {
  const o: Record<string, unknown> = {
    api_trigger: unit.api_trigger,
    autostart: unit.autostart,
    catch_up: unit.catch_up,
  }
  if (unit.compose) o.compose = unit.compose
  Object.assign(o, {
    cron: unit.cron ?? '',
    depends_on: unit.depends_on,
    description: unit.description,
    env: unit.env,
    env_file: unit.env_file,
    exit_codes: unit.exit_codes,
    graceful_stop: unit.graceful_stop,
    group: unit.group,
    healthy_after: unit.healthy_after,
    instances: unit.instances,
    jitter: unit.jitter,
    keep_for: unit.keep_for,
    keep_runs: unit.keep_runs,
    kind: unit.kind,
    log_max_size: unit.log_max_size,
    log_on_full: unit.log_on_full,
    max_catch_up_runs: unit.max_catch_up_runs,
    max_concurrent: unit.max_concurrent,
    name: unit.name,
  })
  if (nextRunAt !== undefined) o.next_run_at = new Date(nextRunAt).toISOString()
  Object.assign(o, {
    on_overlap: unit.on_overlap,
    parameters: unit.parameters.map(parameterObject),
    priority: unit.priority,
    queue_max: unit.queue_max,
    restart: unit.restart,
    restart_backoff: unit.restart_backoff,
    restart_delay: unit.restart_delay,
    retry_attempts: unit.retry_attempts,
    retry_backoff: unit.retry_backoff,
    retry_delay: unit.retry_delay,
    run_on_start: unit.run_on_start,
    secrets_file: unit.secrets_file,
    shell: unit.shell,
    start_retries: unit.start_retries,
    stop_signal: unit.stop_signal,
    timeout: unit.timeout,
    timezone: unit.timezone,
    umask: unit.umask,
    user: unit.user,
    working_dir: unit.working_dir,
  })
  return o
}

function parameterObject(p: Parameter): Record<string, unknown> {
  return {
    allow_custom: p.allow_custom,
    choices: p.choices ?? null,
    default: p.default ?? '',
    description: p.description,
    key: p.key,
    kind: p.kind,
    required: p.required,
    type: p.type,
  }
}

const NEXT_RUN_SENTINEL = '\u0000next_run_at\u0000'

/**
 * A unit's task object serialised once, with a hole for `next_run_at`, so answering
 * GET /api/tasks for a thousand units is string concatenation, not a thousand stringify calls.
 */
export class TaskJsonTemplate {
  private constructor(
    /** The object's JSON up to where `next_run_at` goes, and after it. */
    readonly head: string,
    readonly tail: string,
  ) {}

  static of(unit: Unit): TaskJsonTemplate {
    const text = JSON.stringify({...taskObject(unit, 0), next_run_at: NEXT_RUN_SENTINEL})
    const hole = `"next_run_at":${JSON.stringify(NEXT_RUN_SENTINEL)}`
    const at = text.indexOf(hole)
    return new TaskJsonTemplate(text.slice(0, at), text.slice(at + hole.length))
  }

  /** A template made earlier (the daemon's compiled config in the state directory). */
  static restore(head: string, tail: string): TaskJsonTemplate {
    return new TaskJsonTemplate(head, tail)
  }

  render(nextRunAt: number | undefined): string {
    if (nextRunAt === undefined) return this.head.slice(0, -1) + this.tail
    return `${this.head}"next_run_at":"${new Date(nextRunAt).toISOString()}"${this.tail}`
  }
}
