import type {ConfigIssue} from '../config/load.js'
import type {ParamProblem} from '../config/parameters.js'

/**
 * Why the engine refuses a request — defined once here; each transport maps it once (HTTP
 * status in src/api/refusal-status.ts, CLI exit code in src/cli/refusal-exit.ts).
 *
 * - `unknown`: no such task, service or run
 * - `forbidden`: `api_trigger = false`
 * - `params`: the parameters do not fit the task (no run was created)
 * - `service`: a task verb on a service (trigger)
 * - `conflict`: does not apply now (a run not running, restart of a task)
 * - `invalid`: a reload found errors in the config (nothing changed)
 * - `closing`: the daemon is shutting down
 */
export const REFUSALS = ['unknown', 'forbidden', 'params', 'service', 'conflict', 'invalid', 'closing'] as const
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
