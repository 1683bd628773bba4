import {ExitCode} from '../core/errors.js'
import type {RefusalCode} from '../engine/outcomes.js'

/** The CLI exit code of each engine refusal (SPEC §9): the one mapping for this transport. */
export const REFUSAL_EXIT: Readonly<Record<RefusalCode, number>> = {
  unknown: ExitCode.notFound,
  params: ExitCode.usage,
  forbidden: ExitCode.failure,
  service: ExitCode.failure,
  conflict: ExitCode.failure,
  invalid: ExitCode.failure,
  closing: ExitCode.failure,
  storage: ExitCode.failure,
  unavailable: ExitCode.failure,
}
