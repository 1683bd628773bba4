import {formatDuration} from '../core/duration.js'
import type {EndReason, Unit} from '../core/types.js'
import type {StopCause} from './end-reason.js'

/** What the message is made from: how the process ended and what sched did to it. */
export interface EndFacts {
  readonly startError?: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stop?: StopCause
  readonly logError?: string
}

/** The one human line a run record carries when its ending needs explaining (SPEC §3 `message`). */
export function endMessage(reason: EndReason, outcome: EndFacts, unit: Unit, shutdownTimeoutNs: number): string | null {
  const extra = outcome.logError ? `; ${outcome.logError}` : ''
  switch (reason) {
    case 'timeout':
      return `timed out after ${formatDuration(unit.timeout)}${extra}`
    case 'log_overflow':
      return `log reached log_max_size (${unit.log_max_size} bytes) with log_on_full = "kill_task"${extra}`
    case 'daemon_stopped':
      return `still running when shutdown_timeout (${formatDuration(shutdownTimeoutNs)}) ran out; killed${extra}`
    case 'stopped':
      return `${stoppedBy(outcome)}${extra}`
    case 'failed':
      if (outcome.startError) return `could not start: ${outcome.startError}`
      if (outcome.signal) return `killed by ${outcome.signal}${extra}`
      return outcome.exitCode === null ? `failed${extra}` : `exited with code ${outcome.exitCode}${extra}`
    default:
      return outcome.logError ?? null
  }
}

function stoppedBy(outcome: EndFacts): string {
  switch (outcome.stop) {
    case 'operator':
      return 'stopped by an operator'
    case 'terminate':
      return 'terminated by a newer run (on_overlap = "terminate")'
    case 'service':
      return 'service stopped'
    case 'reload':
      return 'stopped by a config reload'
    case 'shutdown':
      return 'stopped at daemon shutdown'
    case 'lease':
      return 'stopped: this node could no longer hold the service slot\'s lease (cluster)'
    default:
      return 'stopped'
  }
}
