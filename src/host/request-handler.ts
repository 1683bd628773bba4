import type {Daemon} from '../engine/daemon.js'
import {type TriggerAnswer} from '../engine/outcomes.js'
import type {TriggerResult} from '../engine/run-owner.js'
import type {Notifications} from '../notify/notifications.js'
import {publicRun} from '../state/run-record.js'
import type {RequestEnvelope} from '../state/requests.js'

/** A trigger's result as it crosses to the CLI: the run as the API shows it, no promise. */
export function triggerAnswer(result: TriggerResult): TriggerAnswer {
  return result.ok ? {ok: true, outcome: result.outcome, run: publicRun(result.run)} : result
}

/** Applies a CLI request read from the state directory through the same engine calls as the API. */
export async function handleRequest({daemon, notifications}: {daemon: Daemon; notifications: Notifications}, request: RequestEnvelope): Promise<object> {
  switch (request.type) {
    case 'trigger':
      return triggerAnswer(await daemon.owner.trigger({unit: request.unit, source: 'cli', params: request.params}))
    case 'stop':
      return daemon.control.stop(request.target)
    case 'start':
      return daemon.control.start(request.unit)
    case 'restart':
      return daemon.control.restart(request.unit)
    case 'reload':
      return daemon.reload()
    case 'notify-test':
      return notifications.test(request.notifier)
  }
}
