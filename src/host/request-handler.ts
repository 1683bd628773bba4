import type {ControlResult, Daemon} from '../engine/daemon.js'
import type {TriggerResult} from '../engine/executor.js'
import type {Notifications} from '../notify/notifications.js'
import {publicRun} from '../state/run-record.js'
import type {DaemonResponse, RequestEnvelope} from '../state/requests.js'

/** What a trigger answers, in the API's and the CLI's terms. */
export function triggerAnswer(result: TriggerResult): Omit<DaemonResponse, 'v' | 'id'> {
  if (result.ok) return {ok: true, data: {outcome: result.outcome, run: publicRun(result.run)}}
  return {ok: false, message: result.message, data: {refusal: result.refusal, problems: result.problems ?? []}}
}

export function controlAnswer(result: ControlResult): Omit<DaemonResponse, 'v' | 'id'> {
  if (result.ok) return {ok: true, data: result}
  return {ok: false, message: result.message, data: {refusal: result.error}}
}

/** Applies a CLI request read from the state directory through the same engine calls as the API. */
export async function handleRequest({daemon, notifications}: {daemon: Daemon; notifications: Notifications}, request: RequestEnvelope): Promise<Omit<DaemonResponse, 'v' | 'id'>> {
  switch (request.type) {
    case 'trigger':
      return triggerAnswer(await daemon.trigger(request.unit, 'cli', request.params))
    case 'stop':
      return controlAnswer(await daemon.stopTarget(request.target))
    case 'start':
      return controlAnswer(daemon.startService(request.unit))
    case 'restart':
      return controlAnswer(await daemon.restartService(request.unit))
    case 'reload': {
      const result = await daemon.reload()
      return result.ok ? {ok: true, data: result} : {ok: false, message: result.message, data: {refusal: 'invalid', errors: result.errors}}
    }
    case 'notify-test': {
      const answer = await notifications.test(request.notifier)
      return answer ? {ok: true, data: answer} : {ok: false, message: `no notifier "${request.notifier}" in the daemon's config`, data: {refusal: 'unknown'}}
    }
  }
}
