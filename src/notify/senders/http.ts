import type {Clock} from '../../core/clock.js'
import {errorMessage} from '../../core/errors.js'
import type {HttpMessage} from '../format/facts.js'
import {RESPONSE_MAX, type SendResult} from './result.js'
import {retryAfterMs} from './retry-after.js'

/** Statuses worth another try: timeouts, rate limits and server trouble. */
const TRANSIENT = new Set([408, 425, 429])

/**
 * POSTs a message with fetch. A 2xx is delivered; 429 and 5xx are retried (with the wait the
 * answer asks for); other 4xx mean the request itself is wrong and are not. The attempt is
 * aborted after `timeoutMs` on the injected clock.
 */
export async function postHttp(message: HttpMessage, timeoutMs: number, clock: Clock): Promise<SendResult> {
  const controller = new AbortController()
  const timer = clock.setTimer(timeoutMs, () => controller.abort())
  try {
    const res = await fetch(message.url, {method: 'POST', headers: message.headers, body: message.body, signal: controller.signal, redirect: 'error'})
    const body = await res.text()
    const response = body.slice(0, RESPONSE_MAX)
    if (res.ok) return {ok: true, status: res.status, response, permanent: false}
    const transient = TRANSIENT.has(res.status) || res.status >= 500
    return {
      ok: false,
      status: res.status,
      response,
      error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${response ? `: ${response.split('\n')[0].slice(0, 200)}` : ''}`,
      permanent: !transient,
      retryAfterMs: transient ? retryAfterMs(res.headers.get('retry-after'), body, clock.now()) : undefined,
    }
  } catch (error) {
    const timedOut = controller.signal.aborted
    // fetch hides the reason (connection refused, DNS, TLS) in its cause.
    const cause = (error as {cause?: unknown}).cause
    const why = timedOut ? `no answer within ${timeoutMs} ms` : cause ? errorMessage(cause) : errorMessage(error)
    return {ok: false, response: '', error: why, permanent: false}
  } finally {
    timer.cancel()
  }
}
