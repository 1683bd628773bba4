import type {NotifierConfig} from '../../core/notify.js'
import type {Notice} from '../notice.js'
import {escapeHtml as esc, factsOf, tailWithin} from './facts.js'

export interface MailMessage {
  readonly from: string
  readonly to: readonly string[]
  readonly subject: string
  readonly text: string
  readonly html: string
  readonly headers: Readonly<Record<string, string>>
}

/** An e-mail in two parts, plain text and HTML, with the same content. */
export function emailMessage(n: Notice, notifier: NotifierConfig): MailMessage {
  const facts = factsOf(n)
  const tail = tailWithin(n.log_tail, 20_000)
  const text = [
    n.summary,
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    ...(tail.length ? ['', `Last ${tail.length} lines of the log:`, ...tail.map((l) => `  ${l}`)] : []),
    '',
    n.action,
    ...(n.url ? [n.url] : []),
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>${esc(n.title)}</h2>
<p>${esc(n.summary)}</p>
<table>${facts.map(([label, value]) => `<tr><th align="left">${esc(label)}</th><td>${esc(value)}</td></tr>`).join('')}</table>
${tail.length ? `<p>Last ${tail.length} lines of the log:</p><pre style="background:#f6f8fa;padding:8px">${esc(tail.join('\n'))}</pre>` : ''}
<p><em>${esc(n.action)}</em></p>
${n.url ? `<p><a href="${esc(n.url)}">Open the run</a></p>` : ''}
</body></html>
`
  return {
    from: notifier.from,
    to: notifier.to,
    subject: `[sched] ${n.title}`,
    text: `${text}\n`,
    html,
    headers: {'X-Sched-Event': n.event, 'X-Sched-Delivery': n.id},
  }
}
