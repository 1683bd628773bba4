import {createHmac} from 'node:crypto'
import type {NotifierConfig} from '../../core/notify.js'
import {VERSION} from '../../core/version.js'
import type {Notice} from '../notice.js'
import type {HttpMessage} from './facts.js'

/**
 * The generic webhook (README "Webhook body"): the notice as JSON, SPEC §14's fields first.
 * With `secret`, `X-Sched-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`;
 * `X-Sched-Delivery` is the message id (the same on every retry: receivers can drop repeats).
 */
export function webhookMessage(n: Notice, notifier: NotifierConfig): HttpMessage {
  const body = JSON.stringify({
    event: n.event,
    task: n.task,
    run_id: n.run_id,
    end_reason: n.end_reason,
    exit_code: n.exit_code,
    signal: n.signal,
    duration_ms: n.duration_ms,
    attempt: n.attempt,
    attempts: n.attempts,
    triggered_by: n.triggered_by,
    log_tail: n.log_tail,
    count: n.count,
    first_at: n.first_at,
    last_at: n.last_at,
    url: n.url,
    id: n.id,
    route: n.route,
    scheduled_at: n.scheduled_at,
    next_run_at: n.next_run_at,
    title: n.title,
    summary: n.summary,
    action: n.action,
    host: n.host,
    created_at: n.created_at,
  })
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `sched/${VERSION}`,
    'x-sched-event': n.event,
    'x-sched-delivery': n.id,
  }
  if (notifier.secret) headers['x-sched-signature'] = `sha256=${createHmac('sha256', notifier.secret).update(body).digest('hex')}`
  return {url: notifier.url, headers, body}
}
