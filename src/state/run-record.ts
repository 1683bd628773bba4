import type {EndReason, Kind, RunStatus, TriggerSource} from '../core/types.js'

/**
 * One run: one process group, one log file, one record (SPEC §3). Where its file lives and how
 * it is named: src/state/runs.ts.
 */
export interface RunRecord {
  readonly v: number
  readonly id: string
  readonly task_name: string
  readonly kind: Kind
  readonly status: RunStatus
  readonly end_reason: EndReason | null
  readonly exit_code: number | null
  readonly signal: string | null
  readonly triggered_by: TriggerSource
  readonly scheduled_at: string | null
  readonly created_at: string
  readonly started_at: string | null
  readonly ended_at: string | null
  readonly duration_ms: number | null
  readonly retry_attempt: number
  readonly retry_of_run_id: string | null
  readonly instance_index: number | null
  readonly params: Readonly<Record<string, string>>
  readonly pid: number | null
  readonly log_bytes: number
  readonly message: string | null
  /**
   * Start time of `pid` (see process-identity.ts), so that crash recovery never signals a pid
   * the kernel has given to another process. Kept in the state file only.
   */
  readonly process_start?: string | null
}

/** The record as the API and `--json` show it: the SPEC §3 fields, nothing internal. */
export type PublicRun = Omit<RunRecord, 'v' | 'process_start'>

export function publicRun(record: RunRecord): PublicRun {
  const {v: _v, process_start: _start, ...rest} = record
  return rest
}
