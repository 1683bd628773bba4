import {NTFY_PRIORITIES, type NotifierConfig} from '../../core/notify.js'
import type {Notice, NoticeEvent} from '../notice.js'
import {type HttpMessage, clip, factsOf, tailWithin} from './facts.js'

/**
 * ntfy's JSON publishing (POST to the server's root URL): title, a plain-text message, priority
 * and tags by event (the notifier's `priority` overrides all but recoveries), and the run's page
 * as the click action. `token` is sent as a bearer token for protected topics.
 */
export function ntfyMessage(n: Notice, notifier: NotifierConfig): HttpMessage {
  const tail = tailWithin(n.log_tail, 2000)
  const message = [n.summary, '', ...factsOf(n).map(([label, value]) => `${label}: ${value}`), ...(tail.length ? ['', 'Last lines of the log:', ...tail] : []), '', n.action].join('\n')
  const body: Record<string, unknown> = {
    topic: notifier.topic,
    title: clip(n.title, 250),
    message: clip(message, 4000),
    priority: priorityOf(n.event, notifier),
    tags: [...tagsOf(n.event), ...(n.task ? [n.task] : [])],
  }
  if (n.url) body.click = n.url
  const headers: Record<string, string> = {'content-type': 'application/json'}
  if (notifier.token) headers.authorization = `Bearer ${notifier.token}`
  return {url: `${notifier.url.replace(/\/+$/, '')}/`, headers, body: JSON.stringify(body)}
}

/** 1 (min) … 5 (urgent): a lost process or a lost alert is urgent, a failed run high. */
function priorityOf(event: NoticeEvent, notifier: NotifierConfig): number {
  if (event === 'run.recovered' || event === 'service.recovered' || event === 'notify.test') return 3
  if (notifier.priority) return NTFY_PRIORITIES.indexOf(notifier.priority) + 1
  return event === 'service.fatal' || event === 'run.crashed' || event === 'disk.full' || event === 'notify.delivery_failed' ? 5 : 4
}

/** ntfy shows tags that name an emoji as that emoji. */
function tagsOf(event: NoticeEvent): string[] {
  switch (event) {
    case 'run.recovered':
    case 'service.recovered':
      return ['white_check_mark', event]
    case 'notify.test':
      return ['information_source', event]
    case 'run.timeout':
      return ['hourglass', event]
    default:
      return ['rotating_light', event]
  }
}
