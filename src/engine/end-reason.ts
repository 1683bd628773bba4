import type {EndReason} from '../core/types.js'

/** Why sched itself ended a run, if it did. */
export type StopCause = 'operator' | 'terminate' | 'service' | 'reload' | 'shutdown' | 'timeout' | 'log_overflow' | 'lease'

export interface ExitFacts {
  /** The process could not be started (bad working_dir, user, shell). */
  readonly startError?: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stop?: StopCause
  /** Still alive when shutdown_timeout ran out, and killed. */
  readonly shutdownExpired?: boolean
  /** The service instance's fast-failure streak passed start_retries with this run. */
  readonly fatal?: boolean
  readonly exitCodes: readonly number[]
}

/**
 * The end reason of a run that was started (SPEC §3). Ordered by precedence: what sched did to
 * the run explains its exit better than the exit itself — a script that exits 0 on SIGTERM after
 * its timeout still timed out.
 */
export function endReason(f: ExitFacts): EndReason {
  if (f.startError !== undefined) return 'failed'
  switch (f.stop) {
    case 'log_overflow':
      return 'log_overflow'
    case 'timeout':
      return 'timeout'
    case 'shutdown':
    case 'operator':
    case 'terminate':
    case 'service':
    case 'reload':
    case 'lease':
      // A stop already under way when shutdown_timeout ran out does not finish within the
      // budget either: the daemon killed it (SPEC §3).
      return f.shutdownExpired ? 'daemon_stopped' : 'stopped'
    case undefined:
      break
  }
  if (f.fatal) return 'start_failed'
  if (f.signal === null && f.exitCode !== null && f.exitCodes.includes(f.exitCode)) return 'success'
  return 'failed'
}
