import type {NotifierConfig} from '../../core/notify.js'
import type {Notice} from '../notice.js'
import {type HttpMessage, escapeHtml as esc, factsOf, tailWithin} from './facts.js'

const MAX_TEXT = 4096

/**
 * Telegram Bot API sendMessage with parse_mode HTML: the title in bold, the facts, the log tail
 * in <pre>, what to do, a link to the run. Text is escaped for Telegram's HTML subset; the tail is
 * cut (oldest lines first) so the message stays within 4096 characters.
 */
export function telegramMessage(n: Notice, notifier: NotifierConfig): HttpMessage {
  const head = [`<b>${esc(n.title)}</b>`, esc(n.summary), '', ...factsOf(n).map(([label, value]) => `<b>${esc(label)}:</b> ${esc(value)}`)].join('\n')
  const foot = ['', `<i>${esc(n.action)}</i>`, ...(n.url ? [`<a href="${esc(n.url)}">Open run</a>`] : [])].join('\n')
  // Escaping can lengthen a line: leave room for it.
  const room = MAX_TEXT - head.length - foot.length - 40
  const tail = room > 0 ? tailWithin(n.log_tail.map(esc), room) : []
  const text = head + (tail.length ? `\n\n<pre>${tail.join('\n')}</pre>` : '') + foot
  const body = {chat_id: notifier.chat_id, text: text.slice(0, MAX_TEXT), parse_mode: 'HTML', disable_web_page_preview: true}
  return {url: `${notifier.url.replace(/\/+$/, '')}/bot${notifier.token}/sendMessage`, headers: {'content-type': 'application/json'}, body: JSON.stringify(body)}
}
