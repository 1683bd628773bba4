import {ExitCode, SchedError} from '../core/errors.js'
import {type DaemonInfo, liveDaemon} from '../state/claim.js'
import type {StateLayout} from '../state/layout.js'
import {type DaemonRequest, type DaemonResponse, awaitResponse, writeRequest} from '../state/requests.js'

/** How long to wait for a running daemon to pick up a request before giving up. */
const ANSWER_TIMEOUT_MS = 10_000

/** The daemon serving this state directory, or exit 4 saying so. */
export function requireDaemon(layout: StateLayout): DaemonInfo {
  const daemon = liveDaemon(layout)
  if (daemon?.mode === 'serve') return daemon
  throw new SchedError(`no daemon is serving ${layout.root}`, {exit: ExitCode.noDaemon, hint: 'start one with: sched serve'})
}

/**
 * Sends a request through the state directory and waits for the daemon's answer. `waitMs` is
 * how long the request itself may take once picked up (a stop waits for the stop ladder).
 */
export async function askDaemon(layout: StateLayout, daemon: DaemonInfo, request: DaemonRequest, waitMs = 0): Promise<DaemonResponse> {
  const id = writeRequest(layout, request)
  const response = await awaitResponse(layout, id, ANSWER_TIMEOUT_MS + waitMs)
  if (!response) {
    throw new SchedError(`the daemon (pid ${daemon.pid}) did not answer within ${(ANSWER_TIMEOUT_MS + waitMs) / 1000}s`, {
      exit: ExitCode.noDaemon,
      hint: 'check that it is healthy: sched status',
    })
  }
  return response
}

/** Exit codes for what the engine says when it refuses (SPEC §9). */
export function refusalExit(refusal: string | undefined): number {
  switch (refusal) {
    case 'unknown':
      return ExitCode.notFound
    case 'params':
      return ExitCode.usage
    default:
      return ExitCode.failure
  }
}
