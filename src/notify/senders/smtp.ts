import type {NotifierConfig} from '../../core/notify.js'
import {errorMessage} from '../../core/errors.js'
import type {MailMessage} from '../format/email.js'
import {RESPONSE_MAX, type SendResult} from './result.js'

/**
 * SMTP through nodemailer: `tls = "tls"` is implicit TLS (port 465), `"starttls"` requires the
 * upgrade (587), `"none"` sends in the clear (a relay on localhost). A 5xx reply or refused
 * credentials are permanent; 4xx replies and connection trouble are retried. nodemailer is
 * loaded on the first e-mail, not with every command.
 */
export async function sendMail(message: MailMessage, notifier: NotifierConfig, timeoutMs: number): Promise<SendResult> {
  const {createTransport} = await import('nodemailer')
  const transport = createTransport({
    host: notifier.host,
    port: notifier.port,
    secure: notifier.tls === 'tls',
    requireTLS: notifier.tls === 'starttls',
    ignoreTLS: notifier.tls === 'none',
    auth: notifier.user ? {user: notifier.user, pass: notifier.password} : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  })
  try {
    const info = await transport.sendMail({from: message.from, to: [...message.to], subject: message.subject, text: message.text, html: message.html, headers: {...message.headers}})
    const response = String(info.response ?? '').slice(0, RESPONSE_MAX)
    const code = Number(/^\d{3}/.exec(response)?.[0])
    return {ok: true, status: Number.isNaN(code) ? undefined : code, response, permanent: false}
  } catch (error) {
    const e = error as {responseCode?: number; response?: string; code?: string}
    const code = typeof e.responseCode === 'number' ? e.responseCode : undefined
    return {
      ok: false,
      status: code,
      response: (e.response ?? '').slice(0, RESPONSE_MAX),
      error: errorMessage(error),
      permanent: e.code === 'EAUTH' || (code !== undefined && code >= 500),
    }
  } finally {
    transport.close()
  }
}
