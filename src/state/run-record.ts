import type {EndReason, Kind, RunStatus, TriggerSource} from '../core/types.js'
// Not json-file.js: the dashboard's build reads this file's types and has no node modules.
import {STATE_FORMAT} from './state-format.js'

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
  /**
   * Present (true) only on a record rebuilt from its file name because the file was damaged
   * (truncated, not JSON, not a record): id, task, trigger source and end reason are true; the
   * creation time is the id's; what the name does not tell is null, 0 or empty. The damaged
   * original is kept in `corrupt/`, named in `message`.
   */
  readonly damaged?: true
}

/** The record as the API and `--json` show it: the SPEC §3 fields, nothing internal. */
export type PublicRun = Omit<RunRecord, 'v' | 'process_start'>

export function publicRun(record: RunRecord): PublicRun {
  const {v: _v, process_start: _start, ...rest} = record
  return rest
}

/** What a record must be told; everything else starts unknown (null, 0, empty). */
export type RunFacts = Pick<RunRecord, 'id' | 'task_name' | 'kind' | 'triggered_by' | 'created_at'> & Partial<RunRecord>

/**
 * A new record: `pending`, nothing known yet beyond `facts`, which may set any other field too.
 * The one place the blank record is spelt out, in the field order of SPEC §3 (and of the files).
 */
export function newRunRecord(facts: RunFacts): RunRecord {
  const {id, task_name, kind, triggered_by, created_at, ...rest} = facts
  return {
    v: STATE_FORMAT,
    id,
    task_name,
    kind,
    status: 'pending',
    end_reason: null,
    exit_code: null,
    signal: null,
    triggered_by,
    scheduled_at: null,
    created_at,
    started_at: null,
    ended_at: null,
    duration_ms: null,
    retry_attempt: 0,
    retry_of_run_id: null,
    instance_index: null,
    params: {},
    pid: null,
    log_bytes: 0,
    message: null,
    ...rest,
  }
}
