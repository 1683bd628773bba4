import type {Config} from '../config/load.js'
import {NS} from '../core/duration.js'
import {SchedError} from '../core/errors.js'
import type {ControlAnswer} from '../engine/control.js'
import type {Refusal} from '../engine/outcomes.js'
import type {StateLayout} from '../state/layout.js'
import type {DaemonRequest} from '../state/requests.js'
import {DaemonClient} from './daemon-client.js'
import {REFUSAL_EXIT} from './refusal-exit.js'

/** What stop, start and restart return (and print under --json). */
export type ControlResult = Exclude<ControlAnswer, Refusal>

/**
 * stop, start and restart: one request to the daemon, answered once done. A stop may take as
 * long as the unit's graceful_stop, so that much more is allowed for the answer.
 */
export async function control(layout: StateLayout, config: Config | undefined, request: DaemonRequest & {type: 'stop' | 'start' | 'restart'}): Promise<ControlResult> {
  const client = DaemonClient.connect(layout)
  const name = request.type === 'stop' ? request.target : request.unit
  const unit = config?.units.find((u) => u.name === name)
  const grace = unit ? unit.graceful_stop / NS.ms : Math.max(0, ...(config?.units ?? []).map((u) => u.graceful_stop / NS.ms), 60_000)
  const answer = await client.control(request, grace + 5000)
  if (!answer.ok) throw refusalError(answer)
  return answer
}

/** A refusal as the error a command exits with (SPEC §9 codes). */
export function refusalError(refusal: Refusal): SchedError {
  return new SchedError(refusal.message, {exit: REFUSAL_EXIT[refusal.refusal], details: refusal.problems?.length ? {problems: refusal.problems} : undefined})
}

export function describeControl(result: ControlResult): string {
  const state = result.state ? ` (${result.state.status}${result.state.instances.length ? `, ${result.state.instances.filter((i) => i.status === 'running').length}/${result.state.instances.length} healthy` : ''})` : ''
  switch (result.action) {
    case 'nothing_running':
      return `nothing running for ${result.unit}`
    case 'already_running':
      return `${result.unit} is already running${state}`
    case 'restarted_instance':
      return `stopped run ${result.runs?.join(', ')} of ${result.unit}; the instance starts again in its slot`
    default:
      if (result.unit) return `${result.action} ${result.unit}${result.runs?.length ? ` (${result.runs.length} run${result.runs.length === 1 ? '' : 's'})` : ''}${state}`
      return `${result.action} run ${result.runs?.join(', ')}`
  }
}
