/** The vocabulary of sched: units (tasks and services), their fields, and runs. */

export type Kind = 'task' | 'service'
export const CATCH_UP = ['latest', 'all', 'skip'] as const
export const ON_OVERLAP = ['queue', 'skip', 'terminate'] as const
export const BACKOFF = ['constant', 'linear', 'exponential'] as const
export const RESTART = ['never', 'always', 'on_failure'] as const
export const LOG_ON_FULL = ['drop_new', 'drop_old', 'kill_task'] as const
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGKILL', 'SIGUSR1', 'SIGUSR2'] as const
export const PARAM_KINDS = ['env', 'arg', 'option', 'flag'] as const
export const PARAM_TYPES = ['string', 'number'] as const
export const PLACEMENT = ['any_node', 'every_node'] as const

export type CatchUp = (typeof CATCH_UP)[number]
export type OnOverlap = (typeof ON_OVERLAP)[number]
export type Backoff = (typeof BACKOFF)[number]
export type Restart = (typeof RESTART)[number]
export type LogOnFull = (typeof LOG_ON_FULL)[number]
export type StopSignal = (typeof STOP_SIGNALS)[number]
export type ParamKind = (typeof PARAM_KINDS)[number]
export type ParamType = (typeof PARAM_TYPES)[number]
export type Placement = (typeof PLACEMENT)[number]

export interface Parameter {
  readonly key: string
  readonly kind: ParamKind
  readonly type: ParamType
  readonly required: boolean
  /** Effective default as text; flags always have "true" or "false"; undefined = none. */
  readonly default?: string
  readonly choices?: readonly string[]
  readonly allow_custom: boolean
  readonly description: string
}

export interface Compose {
  readonly file: string
  readonly project_name: string
  readonly service?: string
}

/**
 * One unit at its effective values: defaults and `[defaults]` applied, paths resolved,
 * durations in nanoseconds, sizes in bytes. Fields that do not apply to the unit's kind hold
 * their documented default so every unit has every field.
 */
export interface Unit {
  readonly name: string
  readonly kind: Kind
  readonly run: string
  readonly description: string
  readonly group: string
  readonly cron?: string
  readonly timezone: string
  readonly run_on_start: boolean
  readonly catch_up: CatchUp
  readonly max_catch_up_runs: number
  readonly jitter: number
  readonly api_trigger: boolean
  readonly max_concurrent: number
  readonly on_overlap: OnOverlap
  readonly queue_max: number
  readonly timeout: number
  readonly retry_attempts: number
  readonly retry_delay: number
  readonly retry_backoff: Backoff
  readonly exit_codes: readonly number[]
  readonly restart: Restart
  readonly restart_delay: number
  readonly restart_backoff: Backoff
  readonly healthy_after: number
  readonly start_retries: number
  readonly instances: number
  /** With `[cluster]`: `any_node` spreads `instances` over the nodes, `every_node` runs one on each. */
  readonly placement: Placement
  readonly autostart: boolean
  readonly priority: number
  readonly depends_on: readonly string[]
  readonly graceful_stop: number
  readonly stop_signal: StopSignal
  readonly shell: string
  readonly working_dir: string
  /** What the process sees from `env_file`s and `env` tables, merged (visible in the API). */
  readonly env: Readonly<Record<string, string>>
  readonly env_file: string
  readonly secrets_file: string
  readonly user: string
  readonly umask: string
  readonly log_max_size: number
  readonly log_on_full: LogOnFull
  readonly keep_runs: number
  readonly keep_for: number
  readonly parameters: readonly Parameter[]
  readonly compose?: Compose
  /** Notifier ids that hear of this unit's failures (a route of its own; not a task-object field). */
  readonly notify: readonly string[]
}

export interface DaemonSettings {
  readonly host: string
  readonly port: number
  readonly shutdown_timeout: number
  /** Absolute, or undefined when the config does not set it. */
  readonly state_dir?: string
  readonly max_storage: number
  /** Where people reach the dashboard (no trailing slash); notifications link to its run pages. */
  readonly public_url?: string
}

/** `[cluster]` (SPEC §13): several daemons sharing one schedule through PostgreSQL. */
export interface ClusterSettings {
  /** PostgreSQL URL (from `url` or SCHED_CLUSTER_URL). Holds the password: show it only through redactUrl(). */
  readonly url: string
  /** This daemon's name in the cluster; the host name unless set. */
  readonly node: string
  /** The URL other nodes reach this node's API at; undefined = the address the API listens on. */
  readonly advertise?: string
  /** Nanoseconds a node's heartbeat and slot leases last without renewal. */
  readonly lease: number
}

export interface SchedulerSettings {
  /** The effective daemon-wide zone: `[scheduler] timezone`, else the host zone. */
  readonly timezone: string
}

export const RUN_STATUS = ['pending', 'running', 'ended'] as const
export type RunStatus = (typeof RUN_STATUS)[number]

export const END_REASONS = [
  'success',
  'failed',
  'timeout',
  'stopped',
  'daemon_stopped',
  'crashed',
  'skipped',
  'queue_full',
  'dst_skipped',
  'missed',
  'log_overflow',
  'start_failed',
] as const
export type EndReason = (typeof END_REASONS)[number]

/** End reasons that count as failures (SPEC §3): retried, restarted under `on_failure`, shown red. */
export const FAILURE_REASONS: readonly EndReason[] = ['failed', 'timeout', 'crashed', 'missed', 'log_overflow', 'start_failed']

export const TRIGGER_SOURCES = ['cron', 'catch_up', 'startup', 'api', 'cli', 'service'] as const
export type TriggerSource = (typeof TRIGGER_SOURCES)[number]

/** One upcoming tick as `sched next --json` and GET /api/tasks/{name}/next show it. */
export interface UpcomingTick {
  readonly at: string
  readonly local: string
  readonly zone: string | null
  readonly kind: 'fire' | 'dst_skipped'
  readonly note: string | null
}
