import type {ConfigIssue} from '../config/load.js'
import type {ParamProblem} from '../config/parameters.js'
import type {PublicRun} from '../state/run-record.js'

/**
 * What the engine answers, defined once. Each transport maps a refusal once: the HTTP status in
 * src/api/refusal-status.ts, the CLI exit code in src/cli/refusal-exit.ts. The CLI gets these
 * answers from the daemon through the state directory (src/cli/daemon-client.ts) and the API
 * from the same engine calls.
 *
 * Refusals — nothing was created or changed:
 * - `unknown`: no such task, service or run
 * - `forbidden`: `api_trigger = false`
 * - `params`: the parameters do not fit the task (with each parameter's problem)
 * - `service`: a task verb on a service (trigger)
 * - `conflict`: does not apply now (a run not running, restart of a task)
 * - `invalid`: a reload cannot apply the config: errors in it (each with its line and column),
 *   or a change to [daemon] or [scheduler], which needs a restart
 * - `closing`: the daemon is shutting down
 * - `storage`: the run's first record could not be written (a full or read-only state directory):
 *   no run was made
 * - `unavailable`: cluster mode, and the cluster database cannot be reached: no run was made
 */
export const REFUSALS = ['unknown', 'forbidden', 'params', 'service', 'conflict', 'invalid', 'closing', 'storage', 'unavailable'] as const
export type RefusalCode = (typeof REFUSALS)[number]

export interface Refusal {
  readonly ok: false
  readonly refusal: RefusalCode
  readonly message: string
  /** With `params`: each parameter's problem. */
  readonly problems?: readonly ParamProblem[]
  /** With `invalid`: every config error, with its line and column. */
  readonly errors?: readonly ConfigIssue[]
}

export function refused(refusal: RefusalCode, message: string, problems?: readonly ParamProblem[]): Refusal {
  return problems ? {ok: false, refusal, message, problems} : {ok: false, refusal, message}
}

export function isRefusal(value: object): value is Refusal {
  return (value as Partial<Refusal>).ok === false
}

/**
 * What became of an accepted trigger: started, queued, or recorded without starting (`skipped`
 * under on_overlap = "skip", `queue_full`). The last two are not refusals — a record exists — but
 * every transport reports them as a run that did not start (HTTP 409, CLI exit 1).
 */
export const TRIGGER_OUTCOMES = ['started', 'queued', 'skipped', 'queue_full'] as const
export type TriggerOutcome = (typeof TRIGGER_OUTCOMES)[number]

export function notStarted(outcome: TriggerOutcome): boolean {
  return outcome === 'skipped' || outcome === 'queue_full'
}

/** A trigger's answer on the wire. */
export type TriggerAnswer = {readonly ok: true; readonly outcome: TriggerOutcome; readonly run: PublicRun} | Refusal
