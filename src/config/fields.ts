import {NS} from '../core/duration.js'
import {BACKOFF, CATCH_UP, LOG_ON_FULL, ON_OVERLAP, PLACEMENT, RESTART, STOP_SIGNALS, type Kind} from '../core/types.js'
import {
  type Reader,
  absolutePath,
  arrayOf,
  bool,
  bytes,
  duration,
  httpUrl,
  int,
  nonEmpty,
  oneOf,
  str,
  stringMap,
  umask,
} from './values.js'

/**
 * Every key a `[tasks.*]`/`[services.*]` table may hold: who it applies to, whether
 * `[defaults]` may set it, how its raw value is read, and its default. Cross-field rules live
 * in units.ts; parameters and compose are read by their own modules.
 */
export interface UnitField {
  readonly applies: Kind | 'both'
  readonly inheritable: boolean
  readonly read: Reader<unknown>
  /** The effective value when neither the unit nor `[defaults]` sets it. */
  readonly default: (kind: Kind) => unknown
  /** A bare integer is nanoseconds: warn when it looks like seconds were meant. */
  readonly isDuration?: boolean
}

const MAX_INT = Number.MAX_SAFE_INTEGER
const both = 'both'
const task = 'task'
const service = 'service'

function field(applies: UnitField['applies'], inheritable: boolean, read: Reader<unknown>, dflt: unknown): UnitField {
  return {applies, inheritable, read, default: typeof dflt === 'function' ? (dflt as UnitField['default']) : () => dflt}
}

function durationField(applies: UnitField['applies'], inheritable: boolean, dflt: number, max?: number): UnitField {
  return {...field(applies, inheritable, duration({max}), dflt), isDuration: true}
}

export const UNIT_FIELDS: Readonly<Record<string, UnitField>> = {
  run: field(both, false, nonEmpty, ''),
  description: field(both, false, str, ''),
  group: field(both, false, str, ''),
  cron: field(task, false, nonEmpty, undefined),
  timezone: field(task, false, nonEmpty, undefined),
  run_on_start: field(task, false, bool, false),
  catch_up: field(task, true, oneOf(CATCH_UP), 'latest'),
  max_catch_up_runs: field(task, true, int(1, 100_000), 100),
  jitter: durationField(task, true, 0, 24 * NS.h),
  api_trigger: field(both, false, bool, true),
  max_concurrent: field(task, false, int(1, 1024), 1),
  on_overlap: field(task, false, oneOf(ON_OVERLAP), 'queue'),
  queue_max: field(task, false, int(1, 10_000), 100),
  timeout: durationField(both, true, 0),
  retry_attempts: field(task, false, int(0, 100), 0),
  retry_delay: durationField(task, false, 5 * NS.s),
  retry_backoff: field(task, false, oneOf(BACKOFF), 'constant'),
  exit_codes: field(both, true, arrayOf(int(0, 255), {nonEmpty: true}), [0]),
  restart: field(both, false, oneOf(RESTART), (kind: Kind) => (kind === 'task' ? 'never' : 'always')),
  restart_delay: durationField(service, true, NS.s),
  restart_backoff: field(service, true, oneOf(BACKOFF), 'exponential'),
  healthy_after: durationField(service, true, 10 * NS.s),
  start_retries: field(service, true, int(0, 1000), 3),
  instances: field(service, false, int(1, 64), 1),
  placement: field(service, false, oneOf(PLACEMENT), 'any_node'),
  autostart: field(service, false, bool, true),
  priority: field(service, false, int(-MAX_INT, MAX_INT), 0),
  depends_on: field(service, false, arrayOf(nonEmpty), []),
  graceful_stop: durationField(both, true, 5 * NS.s),
  stop_signal: field(both, true, oneOf(STOP_SIGNALS), 'SIGTERM'),
  shell: field(both, true, absolutePath, '/bin/sh'),
  working_dir: field(both, false, nonEmpty, ''),
  env: field(both, true, stringMap, {}),
  env_file: field(both, true, nonEmpty, ''),
  secrets_file: field(both, true, nonEmpty, ''),
  user: field(both, false, nonEmpty, ''),
  umask: field(both, false, umask, ''),
  log_max_size: field(both, true, bytes(1), 100 * 1024 * 1024),
  log_on_full: field(both, true, oneOf(LOG_ON_FULL), 'drop_old'),
  keep_runs: field(both, true, int(0, MAX_INT), 0),
  keep_for: durationField(both, true, 0),
  // Notifier ids: a route for this unit's failures (checked against [notifiers] by notify.ts).
  notify: field(both, true, arrayOf(nonEmpty), []),
  // Read by parameters.ts and compose.ts; listed so key checks and "did you mean" know them.
  parameters: field(task, false, (raw) => raw, []),
  compose: field(both, false, (raw) => raw, undefined),
}

export const INHERITABLE_KEYS = Object.keys(UNIT_FIELDS).filter((k) => UNIT_FIELDS[k].inheritable)

export function appliesTo(key: string, kind: Kind): boolean {
  const f = UNIT_FIELDS[key]
  return f !== undefined && (f.applies === 'both' || f.applies === kind)
}

export interface SectionField {
  readonly read: Reader<unknown>
  readonly default: unknown
  readonly isDuration?: boolean
}

export const DAEMON_FIELDS: Readonly<Record<string, SectionField>> = {
  host: {read: nonEmpty, default: '127.0.0.1'},
  port: {read: int(0, 65_535), default: 9477},
  shutdown_timeout: {read: duration(), default: 10 * NS.s, isDuration: true},
  state_dir: {read: nonEmpty, default: undefined},
  max_storage: {read: bytes(0), default: 0},
  // The dashboard's address as people reach it: notifications link to <public_url>/runs/<id>.
  public_url: {read: httpUrl, default: undefined},
}

export const SCHEDULER_FIELDS: Readonly<Record<string, SectionField>> = {
  timezone: {read: nonEmpty, default: undefined},
}

export const TOP_LEVEL = ['daemon', 'scheduler', 'cluster', 'defaults', 'tasks', 'services', 'notifiers', 'route'] as const
