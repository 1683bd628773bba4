import type {NotifierConfig} from '../../core/notify.js'
import type {Notice} from '../notice.js'
import {type HttpMessage, clip, factsOf, tailWithin} from './facts.js'

/**
 * Slack incoming webhook: Block Kit (header, summary, fields, the log tail as a code block, what
 * to do, a button to the run), with `text` as the notification fallback. Slack's limits: header
 * 150 characters, a text block 3000, ten fields.
 */
export function slackMessage(n: Notice, notifier: NotifierConfig): HttpMessage {
  const blocks: unknown[] = [
    {type: 'header', text: {type: 'plain_text', text: clip(n.title, 150)}},
    {type: 'section', text: {type: 'mrkdwn', text: clip(esc(n.summary), 3000)}},
    {type: 'section', fields: factsOf(n).slice(0, 10).map(([label, value]) => ({type: 'mrkdwn', text: clip(`*${label}*\n${esc(value)}`, 2000)}))},
  ]
  const tail = tailWithin(n.log_tail, 2900)
  if (tail.length) blocks.push({type: 'section', text: {type: 'mrkdwn', text: `\`\`\`${esc(tail.join('\n')).replace(/```/g, "'''")}\`\`\``}})
  blocks.push({type: 'context', elements: [{type: 'mrkdwn', text: clip(esc(n.action), 3000)}]})
  if (n.url) blocks.push({type: 'actions', elements: [{type: 'button', text: {type: 'plain_text', text: 'Open run'}, url: n.url}]})
  return {url: notifier.url, headers: {'content-type': 'application/json'}, body: JSON.stringify({text: clip(n.title, 3000), blocks})}
}

/** Slack's mrkdwn needs &, < and > escaped (they start links and mentions). */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
