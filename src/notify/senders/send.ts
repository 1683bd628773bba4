import type {Clock} from '../../core/clock.js'
import {NS} from '../../core/duration.js'
import type {NotifierConfig} from '../../core/notify.js'
import {discordMessage} from '../format/discord.js'
import {emailMessage} from '../format/email.js'
import type {HttpMessage} from '../format/facts.js'
import {ntfyMessage} from '../format/ntfy.js'
import {slackMessage} from '../format/slack.js'
import {telegramMessage} from '../format/telegram.js'
import {webhookMessage} from '../format/webhook.js'
import type {Notice} from '../notice.js'
import {postHttp} from './http.js'
import {type SendResult, redact} from './result.js'
import {sendMail} from './smtp.js'

const HTTP_FORMATS: Record<Exclude<NotifierConfig['kind'], 'email'>, (n: Notice, c: NotifierConfig) => HttpMessage> = {
  webhook: webhookMessage,
  slack: slackMessage,
  discord: discordMessage,
  telegram: telegramMessage,
  ntfy: ntfyMessage,
}

/**
 * One attempt to deliver a notice through a notifier, in its platform's format. Whatever comes
 * back is scrubbed of the notifier's credentials before anyone stores or prints it.
 */
export async function sendNotice(notice: Notice, notifier: NotifierConfig, clock: Clock): Promise<SendResult> {
  if (notifier.unresolved.length) {
    const missing = notifier.unresolved.join(', ')
    return {ok: false, response: '', permanent: true, error: `notifier "${notifier.id}" has settings that were not set when the config loaded: ${missing}; set them in the daemon's environment or a secrets_file and restart (or reload)`}
  }
  const timeoutMs = notifier.timeout / NS.ms
  let result: SendResult
  try {
    result = notifier.kind === 'email' ? await sendMail(emailMessage(notice, notifier), notifier, timeoutMs) : await postHttp(HTTP_FORMATS[notifier.kind](notice, notifier), timeoutMs, clock)
  } catch (error) {
    result = {ok: false, response: '', error: (error as Error).message, permanent: false}
  }
  return {...result, response: redact(result.response, notifier.secrets), ...(result.error === undefined ? {} : {error: redact(result.error, notifier.secrets)})}
}
