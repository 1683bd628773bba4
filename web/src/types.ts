/** The shapes of the API's answers the dashboard reads (README "HTTP API"). */
import type {EndReason, Kind, ParamKind, ParamType, TriggerSource} from '../../src/core/types.js'
import type {RunRecord} from '../../src/state/run-record.js'
import type {NotificationRecord} from '../../src/core/notify.js'

export type Run = Omit<RunRecord, 'v' | 'process_start'>

export interface ParameterObject {
  readonly key: string
  readonly kind: ParamKind
  readonly type: ParamType
  readonly required: boolean
  readonly default: string
  readonly choices: readonly string[] | null
  readonly allow_custom: boolean
  readonly description: string
}

/** GET /api/tasks: every seed field at its effective value (only the ones the page reads are typed). */
export interface TaskObject {
  readonly name: string
  readonly kind: Kind
  readonly group: string
  readonly description: string
  readonly cron: string
  readonly timezone: string
  readonly next_run_at?: string
  readonly instances: number
  readonly parameters: readonly ParameterObject[]
  readonly api_trigger: boolean
  readonly [field: string]: unknown
}

export interface Instance {
  readonly index: number
  readonly status: string
  readonly pid: number | null
  readonly run_id: string | null
  readonly restarts: number
}

export interface UnitState {
  readonly status: string
  readonly active_runs: number
  readonly queued: number
  readonly instances: readonly Instance[]
}

export interface StripRun {
  readonly id: string
  readonly state: EndReason | 'active'
  readonly triggered_by: TriggerSource
  readonly created_at: string
}

export interface UnitSummary {
  readonly name: string
  readonly state: UnitState
  readonly last_run: Run | null
  readonly recent_runs: readonly StripRun[]
}

export interface LogLine {
  readonly n: number
  readonly ts: number
  readonly stream: 'stdout' | 'stderr' | 'system'
  readonly text: string
}

export type {UpcomingTick} from '../../src/core/types.js'

export type {ProblemDetail} from "./api.js"

export interface DaemonInfo {
  readonly version: string
  readonly pid: number
  readonly started_at: string
  readonly config_path: string
  readonly state_dir: string
  readonly timezone: string
  readonly config_stale: boolean
}

/** One page of GET /api/notifications. */
export interface NotificationPage {
  readonly notifications: readonly Omit<NotificationRecord, 'v'>[]
  readonly total: number
  readonly next: string | null
}
