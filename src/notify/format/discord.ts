import type {NotifierConfig} from '../../core/notify.js'
import {type Notice, severity} from '../notice.js'
import {type HttpMessage, clip, factsOf, tailWithin} from './facts.js'

const COLOUR = {error: 0xd1242f, ok: 0x1a7f37, info: 0x0969da}

/**
 * Discord webhook: one embed (title linking to the run, colour by outcome, the summary and the
 * log tail in its description, facts as inline fields, what to do in the footer). Mentions in
 * log lines are never pinged. Discord's limits: title 256, description 4096, 25 fields of 1024.
 */
export function discordMessage(n: Notice, notifier: NotifierConfig): HttpMessage {
  const tail = tailWithin(n.log_tail, 3000)
  const description = clip(n.summary, 1000) + (tail.length ? `\n\`\`\`\n${tail.join('\n').replace(/```/g, "'''")}\n\`\`\`` : '')
  const embed: Record<string, unknown> = {
    title: clip(n.title, 256),
    description,
    color: COLOUR[severity(n.event)],
    fields: factsOf(n).slice(0, 25).map(([name, value]) => ({name, value: clip(value, 1024), inline: true})),
    footer: {text: clip(n.action, 2048)},
    timestamp: n.last_at,
  }
  if (n.url) embed.url = n.url
  return {url: notifier.url, headers: {'content-type': 'application/json'}, body: JSON.stringify({embeds: [embed], allowed_mentions: {parse: []}})}
}
