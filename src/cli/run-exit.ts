import {constants} from 'node:os'
import type {RunRecord} from '../state/run-record.js'

/** `trigger --wait` exits with the run's exit code; a signal is 128+n; no code at all (never started, stopped first) is 1. */
export function exitCodeOf(run: Pick<RunRecord, 'exit_code' | 'signal'>): number {
  if (run.exit_code !== null) return run.exit_code
  if (run.signal) {
    const n = constants.signals[run.signal as keyof typeof constants.signals]
    if (n !== undefined) return 128 + n
  }
  return 1
}
