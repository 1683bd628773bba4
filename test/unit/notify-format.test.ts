import {createHmac} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import type {NotifierConfig} from '../../src/core/notify.js'
import {discordMessage} from '../../src/notify/format/discord.js'
import {emailMessage} from '../../src/notify/format/email.js'
import {ntfyMessage} from '../../src/notify/format/ntfy.js'
import {slackMessage} from '../../src/notify/format/slack.js'
import {telegramMessage} from '../../src/notify/format/telegram.js'
import {webhookMessage} from '../../src/notify/format/webhook.js'
import {type Notice, buildNotice} from '../../src/notify/notice.js'

/** Each platform's format (SPEC §14 content): what a person sees, within each platform's limits. */

const S = 1e9
const RUN_ID = '01JD5V7Q8M4Z6E8XK2R9T3W1YC'
const AT = Date.UTC(2026, 2, 1, 2, 30)

function notifier(over: Partial<NotifierConfig>): NotifierConfig {
  return {id: 'n', kind: 'webhook', url: 'https://example.com/h', token: '', secret: '', chat_id: '', topic: '', host: '', port: 25, tls: 'none', user: '', password: '', from: 'sched@example.com', to: ['ops@example.com'], rate_limit: 20, deadline: 3600 * S, timeout: 10 * S, secrets: [], unresolved: [], ...over}
}

function failed(count = 1, logTail: string[] = ['starting dump', 'pg_dump: error: connection to server failed <db & co>']): Notice {
  const run = {
    id: RUN_ID,
    task_name: 'backup',
    kind: 'task' as const,
    status: 'ended' as const,
    end_reason: 'failed' as const,
    exit_code: 2,
    signal: null,
    triggered_by: 'cron' as const,
    scheduled_at: new Date(AT).toISOString(),
    created_at: new Date(AT).toISOString(),
    started_at: new Date(AT).toISOString(),
    ended_at: new Date(AT + 83_000).toISOString(),
    duration_ms: 83_000,
    retry_attempt: 2,
    retry_of_run_id: null,
    instance_index: null,
    params: {},
    pid: 4242,
    log_bytes: 100,
    message: 'exited with code 2',
  }
  return buildNotice(
    {item: {event: 'run.failed', at: AT, task: 'backup', run, attempts: 3}, count, first: AT - 50_000, last: AT},
    {id: '01JD5V7Q8M4Z6E8XK2R9T3W1YD', route: 'route[0]', notifier: 'n', now: AT + 84_000, host: 'db1', logTail, nextRunAt: AT + 86_400_000, publicUrl: 'https://sched.example.com'},
  )
}

describe('the notice (what every format renders)', () => {
  it('says what happened and what to do, with every fact SPEC §14 asks for', () => {
    const n = failed()
    expect(n).toMatchObject({
      event: 'run.failed',
      task: 'backup',
      run_id: RUN_ID,
      end_reason: 'failed',
      exit_code: 2,
      duration_ms: 83_000,
      attempt: 3,
      attempts: 3,
      triggered_by: 'cron',
      count: 1,
      next_run_at: '2026-03-02T02:30:00.000Z',
      url: `https://sched.example.com/runs/${RUN_ID}`,
      title: 'backup failed: exited with code 2',
      summary: `Run ${RUN_ID} of backup ended failed: exited with code 2. Attempt 3 of 3.`,
      action: `Read its log: sched logs ${RUN_ID}`,
    })
  })

  it('a coalesced message carries the count and first/last times', () => {
    const n = failed(12)
    expect(n.title).toBe('backup failed: exited with code 2 (12 times)')
    expect(n.summary).toContain('This happened 12 times between 2026-03-01T02:29:10.000Z and 2026-03-01T02:30:00.000Z')
    expect([n.count, n.first_at, n.last_at]).toEqual([12, '2026-03-01T02:29:10.000Z', '2026-03-01T02:30:00.000Z'])
  })
})

describe('webhook', () => {
  it('posts the documented JSON, signed with HMAC-SHA256 of the exact body when secret is set', () => {
    const m = webhookMessage(failed(), notifier({secret: 'hmac-key'}))
    const body = JSON.parse(m.body)
    expect(Object.keys(body).slice(0, 15)).toEqual(['event', 'task', 'run_id', 'end_reason', 'exit_code', 'signal', 'duration_ms', 'attempt', 'attempts', 'triggered_by', 'log_tail', 'count', 'first_at', 'last_at', 'url'])
    expect(m.headers['x-sched-signature']).toBe(`sha256=${createHmac('sha256', 'hmac-key').update(m.body).digest('hex')}`)
    expect(m.headers['x-sched-delivery']).toBe('01JD5V7Q8M4Z6E8XK2R9T3W1YD')
  })

  it('is not signed without a secret', () => {
    expect(webhookMessage(failed(), notifier({})).headers['x-sched-signature']).toBeUndefined()
  })
})

describe('slack', () => {
  it('Block Kit: header, summary, fields, the log tail in a code block, the action and a button to the run', () => {
    const body = JSON.parse(slackMessage(failed(), notifier({kind: 'slack'})).body)
    expect(body.text).toBe('backup failed: exited with code 2')
    expect(body.blocks.map((b: {type: string}) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context', 'actions'])
    expect(body.blocks[2].fields.length).toBeLessThanOrEqual(10)
    expect(body.blocks[2].fields[3].text).toBe('*Exit*\ncode 2')
    // &, < and > are mrkdwn syntax: escaped.
    expect(body.blocks[3].text.text).toBe('```starting dump\npg_dump: error: connection to server failed &lt;db &amp; co&gt;```')
    expect(body.blocks[5].elements[0].url).toBe(`https://sched.example.com/runs/${RUN_ID}`)
  })

  it('keeps a huge log tail within a block\'s 3000 characters, newest lines kept', () => {
    const lines = Array.from({length: 20}, (_, i) => `${i}`.padEnd(400, 'x'))
    const block = JSON.parse(slackMessage(failed(1, lines), notifier({kind: 'slack'})).body).blocks[3].text.text as string
    expect(block.length).toBeLessThanOrEqual(3000)
    expect(block).toContain('19xxx')
    expect(block).not.toContain('0xxx')
  })
})

describe('discord', () => {
  it('one embed: red, linking to the run, facts as fields, mentions never pinged', () => {
    const body = JSON.parse(discordMessage(failed(), notifier({kind: 'discord'})).body)
    expect(body.allowed_mentions).toEqual({parse: []})
    const [embed] = body.embeds
    expect(embed).toMatchObject({title: 'backup failed: exited with code 2', url: `https://sched.example.com/runs/${RUN_ID}`, color: 0xd1242f, footer: {text: `Read its log: sched logs ${RUN_ID}`}})
    expect(embed.description).toContain('```\nstarting dump\npg_dump: error: connection to server failed <db & co>\n```')
    expect(embed.fields).toContainEqual({name: 'Attempt', value: '3 of 3', inline: true})
  })
})

describe('telegram', () => {
  it('sendMessage with HTML: escaped text, the tail in <pre>, the token only in the URL path', () => {
    const m = telegramMessage(failed(), notifier({kind: 'telegram', url: 'https://api.telegram.org/', token: '123:ABC', chat_id: '-100'}))
    expect(m.url).toBe('https://api.telegram.org/bot123:ABC/sendMessage')
    const body = JSON.parse(m.body)
    expect(body).toMatchObject({chat_id: '-100', parse_mode: 'HTML', disable_web_page_preview: true})
    expect(body.text).toContain('<b>backup failed: exited with code 2</b>')
    expect(body.text).toContain('<pre>starting dump\npg_dump: error: connection to server failed &lt;db &amp; co&gt;</pre>')
    expect(body.text).toContain(`<a href="https://sched.example.com/runs/${RUN_ID}">Open run</a>`)
  })

  it('stays within 4096 characters', () => {
    const lines = Array.from({length: 20}, () => '<'.repeat(500))
    expect(JSON.parse(telegramMessage(failed(1, lines), notifier({kind: 'telegram', token: 't', chat_id: '1'})).body).text.length).toBeLessThanOrEqual(4096)
  })
})

describe('ntfy', () => {
  it('JSON publishing to the server root: priority and tags by event, a click to the run, the token as bearer', () => {
    const m = ntfyMessage(failed(), notifier({kind: 'ntfy', url: 'https://ntfy.sh', topic: 'alerts', token: 'tk'}))
    expect(m.url).toBe('https://ntfy.sh/')
    expect(m.headers.authorization).toBe('Bearer tk')
    const body = JSON.parse(m.body)
    expect(body).toMatchObject({topic: 'alerts', title: 'backup failed: exited with code 2', priority: 4, tags: ['rotating_light', 'run.failed', 'backup'], click: `https://sched.example.com/runs/${RUN_ID}`})
    expect(body.message).toContain('Last lines of the log:\nstarting dump')
  })

  it('the notifier priority applies to failures, not to recoveries', () => {
    const n = notifier({kind: 'ntfy', topic: 't', priority: 'min'})
    expect(JSON.parse(ntfyMessage(failed(), n).body).priority).toBe(1)
    expect(JSON.parse(ntfyMessage({...failed(), event: 'run.recovered'}, n).body)).toMatchObject({priority: 3, tags: ['white_check_mark', 'run.recovered', 'backup']})
  })
})

describe('email', () => {
  it('plain text and HTML with the same content', () => {
    const m = emailMessage(failed(), notifier({kind: 'email'}))
    expect(m.subject).toBe('[sched] backup failed: exited with code 2')
    expect(m.text).toContain('Attempt: 3 of 3\n')
    expect(m.text).toContain('Last 2 lines of the log:\n  starting dump\n  pg_dump: error: connection to server failed <db & co>')
    expect(m.html).toContain('<pre style="background:#f6f8fa;padding:8px">starting dump\npg_dump: error: connection to server failed &lt;db &amp; co&gt;</pre>')
    expect(m.html).toContain(`<a href="https://sched.example.com/runs/${RUN_ID}">`)
  })
})
