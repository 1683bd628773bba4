import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {createHmac} from 'node:crypto'
import {describe, expect} from 'vitest'
import {api} from '../support/control.js'
import {MailServer, Recorder} from '../support/notify-servers.js'
import {it as boxIt, sleep, until} from '../support/sandbox.js'

/**
 * Notifications end to end (SPEC §14): a real daemon, real failing tasks and services, and real
 * servers answering at the platforms' paths the way the platforms do. Each scenario produces
 * exactly the expected messages.
 */

/** Each test has its own platforms: an HTTP recorder and an SMTP server. */
const it = boxIt.extend<{rec: Recorder; smtp: MailServer}>({
  rec: async ({}, use) => {
    const rec = await new Recorder().start()
    try {
      await use(rec)
    } finally {
      await rec.stop()
    }
  },
  smtp: async ({}, use) => {
    const smtp = await new MailServer({user: 'sched', password: 'mail-pass-4242'}).start()
    try {
      await use(smtp)
    } finally {
      await smtp.stop()
    }
  },
})

/** Every platform, pointed at the local servers. */
function notifiers(rec: Recorder, smtp: MailServer, extra = ''): string {
  return `
[daemon]
public_url = "https://sched.example.com/"

[notifiers.hook]
kind = "webhook"
url = "${rec.url}/hook"
secret = "hmac-secret-1"

[notifiers.slack]
kind = "slack"
url = "${rec.url}/slack/T000/B000/slacktoken"

[notifiers.discord]
kind = "discord"
url = "${rec.url}/discord/api/webhooks/1/discordtoken"

[notifiers.tg]
kind = "telegram"
url = "${rec.url}"
token = "123456:telegramtoken"
chat_id = -1001

[notifiers.phone]
kind = "ntfy"
url = "${rec.url}"
topic = "sched-alerts"

[notifiers.mail]
kind = "email"
host = "127.0.0.1"
port = ${smtp.port}
tls = "none"
user = "sched"
password = "mail-pass-4242"
from = "sched@example.com"
to = "ops@example.com"
${extra}`
}

/** The webhook bodies received so far, as parsed JSON. */
const hooks = (rec: Recorder, prefix = '/hook') => rec.delivered(prefix).map((r) => r.json as Record<string, unknown>)

/** A local port nothing listens on (a connection is refused at once). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Waits a little longer and checks nothing more arrived: "exactly" means no extra message later. */
async function settle(ms = 700): Promise<void> {
  await sleep(ms)
}

// Real daemons and many CLI processes each: on a loaded machine a test takes far longer than alone.
describe.concurrent('notifications end to end', {timeout: 120_000}, () => {
  it('a failing task reaches every platform once, each in its format, with the log tail, attempt, next run and link', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
events = ["run.failed"]
notifiers = ["hook", "slack", "discord", "tg", "phone", "mail"]

[tasks.backup]
run = "echo 'dumping app'; echo 'pg_dump: connection refused' >&2; exit 3"
cron = "0 3 * * *"
timezone = "UTC"
retry_attempts = 1
retry_delay = "100ms"
`),
    )
    await b.start()
    await b.trigger('backup')
    await Promise.all(['/hook', '/slack/', '/discord/', '/bot123456:telegramtoken/sendMessage', '/'].map((p) => rec.waitFor(p, 1)))
    const [mail] = await smtp.waitFor(1)
    await settle()
    const runs = b.runs('backup')
    expect(runs.map((r) => r.end_reason)).toEqual(['failed', 'failed'])
    const last = runs[1]

    // Exactly one message per notifier: the first attempt, which a retry followed, says nothing.
    expect(rec.requests.map((r) => r.path).sort()).toEqual(['/', '/bot123456:telegramtoken/sendMessage', '/discord/api/webhooks/1/discordtoken', '/hook', '/slack/T000/B000/slacktoken'])
    expect(smtp.mails).toHaveLength(1)

    const [hook] = rec.delivered('/hook')
    expect(hook.json).toMatchObject({
      event: 'run.failed',
      task: 'backup',
      run_id: last.id,
      end_reason: 'failed',
      exit_code: 3,
      signal: null,
      attempt: 2,
      attempts: 2,
      triggered_by: 'cli',
      log_tail: ['dumping app', 'pg_dump: connection refused'],
      count: 1,
      url: `https://sched.example.com/runs/${last.id}`,
      title: 'backup failed: exited with code 3',
    })
    expect(hook.json.next_run_at).toMatch(/T03:00:00\.000Z$/)
    expect(hook.headers['x-sched-signature']).toBe(`sha256=${createHmac('sha256', 'hmac-secret-1').update(hook.body).digest('hex')}`)

    const slack = rec.delivered('/slack/')[0].json
    expect(slack.blocks[0]).toEqual({type: 'header', text: {type: 'plain_text', text: 'backup failed: exited with code 3'}})
    expect(JSON.stringify(slack.blocks)).toContain('pg_dump: connection refused')

    const discord = rec.delivered('/discord/')[0].json
    expect(discord.embeds[0]).toMatchObject({title: 'backup failed: exited with code 3', url: `https://sched.example.com/runs/${last.id}`})

    const tg = rec.delivered('/bot')[0].json
    expect(tg).toMatchObject({chat_id: '-1001', parse_mode: 'HTML'})
    expect(tg.text).toContain('<pre>dumping app\npg_dump: connection refused</pre>')

    const ntfy = rec.delivered('/').find((r) => r.path === '/')!.json
    expect(ntfy).toMatchObject({topic: 'sched-alerts', priority: 4, click: `https://sched.example.com/runs/${last.id}`})

    expect(mail.subject).toBe('[sched] backup failed: exited with code 3')
    expect(mail.text).toContain('pg_dump: connection refused')
    expect(mail.html).toContain('<pre')
    expect(smtp.logins).toEqual([{user: 'sched', ok: true}])

    // History and counters.
    const page = await api(b, 'GET', '/api/notifications')
    expect(page.status).toBe(200)
    expect(page.body.total).toBe(6)
    expect(page.body.notifications.map((n: {notifier: string}) => n.notifier).sort()).toEqual(['discord', 'hook', 'mail', 'phone', 'slack', 'tg'])
    for (const n of page.body.notifications) expect(n).toMatchObject({event: 'run.failed', task: 'backup', run_id: last.id, route: 'route[0]', status: 'sent', attempts: 1, last_error: null})
    const metrics = (await api(b, 'GET', '/metrics')).text
    expect(metrics).toContain('sched_notifications_sent_total{notifier="hook"} 1')
    expect(metrics).toContain('sched_notifications_sent_total{notifier="mail"} 1')
  })

  it('a timed-out task: run.timeout, and its next success is run.recovered', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
events = ["run.timeout", "run.recovered"]
notifiers = ["hook"]
coalesce = "0s"

[tasks.slow]
run = 'echo started; if [ -f "${box.path('fast')}" ]; then exit 0; fi; sleep 30'
timeout = "2s"
graceful_stop = "100ms"
`),
    )
    await b.start()
    await b.trigger('slow')
    const [timeout] = await rec.waitFor('/hook', 1)
    expect(timeout.json).toMatchObject({event: 'run.timeout', task: 'slow', end_reason: 'timeout', title: 'slow timed out after 2s'})
    // The tail holds sched's own lines too: here, what the timeout did.
    expect(timeout.json.log_tail).toEqual(['started', '[sched] timeout reached; sending SIGTERM to the process group (SIGKILL in 100ms)'])
    writeFileSync(box.path('fast'), '')
    await b.trigger('slow')
    const got = await rec.waitFor('/hook', 2)
    expect(got[1].json).toMatchObject({event: 'run.recovered', task: 'slow', end_reason: 'success', title: 'slow recovered'})
    await b.trigger('slow')
    await until(() => b.runs('slow').filter((r) => r.status === 'ended').length === 3, 30_000, 'the third run')
    await settle()
    expect(hooks(rec).map((h) => h.event)).toEqual(['run.timeout', 'run.recovered'])
  })

  it('ticks missed while the daemon was down: one run.missed after the restart', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
events = ["run.missed"]
notifiers = ["hook"]

[tasks.tick]
run = "true"
cron = "* * * * * *"
`),
    )
    await b.start()
    await until(() => b.runs('tick').some((r) => r.triggered_by === 'cron' && r.status === 'ended'), 30_000, 'a cron run')
    expect(await b.stop('SIGTERM')).toBe(0)
    await sleep(2500)
    await b.start()
    const [missed] = await rec.waitFor('/hook', 1)
    // The notification leaves on the run's end; its record may reach the disk a moment later.
    const record = await until(() => b.runs('tick').find((r) => r.end_reason === 'missed'), 10_000, 'the missed record on disk')
    expect(missed.json).toMatchObject({event: 'run.missed', task: 'tick', run_id: record.id, end_reason: 'missed', triggered_by: 'cron'})
    expect(missed.json.title).toMatch(/^tick missed its schedule: \d+ ticks? missed while the daemon was down$/)
    await settle()
    expect(hooks(rec)).toHaveLength(1)
  })

  it('a service going FATAL and recovering: service.fatal with its log, then service.recovered', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
events = ["service.fatal", "service.recovered"]
notifiers = ["hook", "mail"]
coalesce = "0s"

[services.web]
run = 'if [ -f "${box.path('fixed')}" ]; then exec sleep 1000; fi; echo "EADDRINUSE: port 8080 taken" >&2; exit 1'
healthy_after = "300ms"
start_retries = 1
restart_delay = "50ms"
`),
    )
    await b.start()
    const [fatal] = await rec.waitFor('/hook', 1)
    expect(fatal.json).toMatchObject({event: 'service.fatal', task: 'web', end_reason: 'start_failed', exit_code: 1, title: 'web is FATAL', log_tail: ['EADDRINUSE: port 8080 taken']})
    expect(fatal.json.action).toBe(`Read its log (sched logs ${fatal.json.run_id}), fix the cause, then: sched start web`)
    writeFileSync(box.path('fixed'), '')
    expect((await b.cli(['start', 'web'])).code).toBe(0)
    const got = await rec.waitFor('/hook', 2)
    expect(got[1].json).toMatchObject({event: 'service.recovered', task: 'web', title: 'web recovered', summary: 'web is running again (1/1 instances healthy).'})
    const mails = await smtp.waitFor(2)
    expect(mails.map((m) => m.subject)).toEqual(['[sched] web is FATAL', '[sched] web recovered'])
    await settle()
    expect(hooks(rec).map((h) => h.event)).toEqual(['service.fatal', 'service.recovered'])
  })

  it('a 5xx and a 429 with Retry-After are retried and delivered; the history shows the attempts', async ({box, rec, smtp}) => {
    rec.script('/slack/', {status: 503, body: 'upstream trouble'})
    rec.script('/bot', {status: 429, headers: {'content-type': 'application/json', 'retry-after': '1'}, body: JSON.stringify({ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: {retry_after: 1}})})
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
notifiers = ["slack", "tg"]

[tasks.bad]
run = "exit 1"
`).replace(/(kind = "(slack|telegram)")/g, '$1\ndeadline = "2s"'),
    )
    await b.start()
    await b.trigger('bad')
    const [slack] = await rec.waitFor('/slack/', 1)
    const [tg] = await rec.waitFor('/bot', 1)
    const slackTries = rec.at('/slack/')
    const tgTries = rec.at('/bot')
    expect(slackTries.map((r) => r.status)).toEqual([503, 200])
    expect(tgTries.map((r) => r.status)).toEqual([429, 200])
    expect(tg.at - tgTries[0].at).toBeGreaterThanOrEqual(1000)
    expect(slack.json.text).toBe('bad failed: exited with code 1')
    const page = (await api(b, 'GET', '/api/notifications?status=sent')).body
    expect(page.notifications.map((n: {notifier: string; attempts: number}) => `${n.notifier}:${n.attempts}`).sort()).toEqual(['slack:2', 'tg:2'])
  })

  it('given up after its deadline: notify.delivery_failed goes to the other notifiers, a log line says it, the history keeps the error', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[notifiers.dead]
kind = "webhook"
url = "${rec.url}/dead"
deadline = "1s"

[[route]]
events = ["run.failed"]
notifiers = ["dead"]

[[route]]
events = ["notify.delivery_failed"]
notifiers = ["hook", "dead"]

[tasks.bad]
run = "exit 1"
`),
    )
    rec.script('/dead', {status: 500, body: 'boom'}, {status: 500, body: 'boom'}, {status: 500, body: 'boom'})
    await b.start()
    await b.trigger('bad')
    const [lost] = await rec.waitFor('/hook', 1)
    expect(lost.json).toMatchObject({event: 'notify.delivery_failed', task: 'bad', title: 'A notification could not be delivered to dead', action: 'Check the notifier\'s settings and reachability: sched notify test dead'})
    // Two attempts: the first, and one last at the deadline (only one when the first answer came after it).
    const tries = rec.at('/dead').length
    const n = `${tries} attempt${tries === 1 ? '' : 's'}`
    expect(lost.json.summary).toContain(`"bad failed: exited with code 1" was given up after ${n}: HTTP 500 Internal Server Error: boom (deadline reached after ${n})`)
    await settle()
    // Never reported to the notifier that lost it.
    expect(rec.at('/dead')).toHaveLength(tries)
    expect([1, 2]).toContain(tries)
    expect(b.daemon!.stderr()).toMatch(new RegExp(`error notify\\.delivery_failed notifier=dead .*attempts=${tries}`))
    const failed = (await api(b, 'GET', '/api/notifications?status=failed')).body
    expect(failed.notifications).toHaveLength(1)
    expect(failed.notifications[0]).toMatchObject({notifier: 'dead', event: 'run.failed', attempts: tries, last_response: '500 boom'})
    expect((await api(b, 'GET', '/metrics')).text).toContain('sched_notifications_failed_total{notifier="dead"} 1')
  })

  it('sched notify test: through the daemon, and from the config when none runs', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[notifiers.dead]
kind = "slack"
url = "${rec.url}/slack/dead"
[[route]]
notifiers = ["hook", "slack", "discord", "tg", "phone", "mail", "dead"]
`),
    )
    rec.script('/slack/dead', {status: 404, body: 'no_service'}, {status: 404, body: 'no_service'})
    const check = async () => {
      // Four CLI processes at once: each is a Node start, slow on a loaded machine.
      const [ok, json, refused, unknown] = await Promise.all([
        b.cli(['notify', 'test', 'slack']),
        b.cli(['notify', 'test', 'mail', '--json']),
        b.cli(['notify', 'test', 'dead']),
        b.cli(['notify', 'test', 'nope']),
      ])
      expect(ok.code, ok.stderr).toBe(0)
      expect(ok.stdout).toMatch(/^delivered through slack \(slack\) in \d+ ms: the remote answered 200 ok\n$/)
      expect(json.code, json.stderr).toBe(0)
      expect(JSON.parse(json.stdout)).toMatchObject({notifier: 'mail', kind: 'email', ok: true, status: 250, error: null})
      expect(refused.code).toBe(1)
      expect(refused.stdout).toBe('not delivered through dead (slack): HTTP 404 Not Found: no_service\n')
      expect(unknown.code).toBe(3)
    }
    await check()
    await b.start()
    await check()
    expect(rec.at('/slack/T000')).toHaveLength(2)
    expect(rec.at('/slack/T000')[0].json.text).toMatch(/^Test notification from sched on /)
    // Tests are not alerts: no history.
    expect((await api(b, 'GET', '/api/notifications')).body.total).toBe(0)
  })

  it('GET /api/notifications pages newest first and filters', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
notifiers = ["hook", "slack"]
coalesce = "0s"
[tasks.bad]
run = "exit 1"
[tasks.worse]
run = "exit 2"
`),
    )
    await b.start()
    await b.trigger('bad')
    await rec.waitFor('/hook', 1)
    await b.trigger('worse')
    await rec.waitFor('/hook', 2)
    await rec.waitFor('/slack/', 2)
    const first = (await api(b, 'GET', '/api/notifications?limit=3')).body
    expect(first.total).toBe(4)
    expect(first.notifications).toHaveLength(3)
    const rest = (await api(b, 'GET', `/api/notifications?limit=3&before=${first.next}`)).body
    expect(rest).toMatchObject({total: 4, next: null})
    const ids = [...first.notifications, ...rest.notifications].map((n: {id: string}) => n.id)
    expect(ids).toEqual([...ids].sort().reverse())
    expect((await api(b, 'GET', '/api/notifications?notifier=hook&task_name=worse')).body.notifications.map((n: {task: string}) => n.task)).toEqual(['worse'])
    const bad = await api(b, 'GET', '/api/notifications?status=lost')
    expect(bad.status).toBe(400)
    expect((await api(b, 'GET', '/api/notifications?limit=0')).status).toBe(400)
  })

  it('kill -9 with a message in the outbox, not yet sent: delivered once after the restart; what was sent is not sent again', async ({box, rec, smtp}) => {
    // One message a minute: the second waits in the outbox, written and not sent, when the daemon dies.
    const b = box.with(
      notifiers(rec, smtp, `
[notifiers.slow]
kind = "webhook"
url = "${rec.url}/slow"
rate_limit = 1

[[route]]
events = ["run.failed"]
notifiers = ["slow"]
coalesce = "0s"

[tasks.first]
run = "exit 1"

[tasks.second]
run = "exit 2"
`),
    )
    await b.start()
    await b.trigger('first')
    await rec.waitFor('/slow', 1)
    await b.trigger('second')
    const outbox = join(b.state, 'outbox')
    await until(() => readdirSync(outbox).filter((f) => f.endsWith('.json')).length === 1, 30_000, 'the second message in the outbox')
    await sleep(300)
    expect(rec.at('/slow')).toHaveLength(1)
    await b.stop('SIGKILL')

    await b.start()
    const got = await rec.waitFor('/slow', 2)
    await settle()
    expect(rec.at('/slow').map((r) => r.json.task)).toEqual(['first', 'second'])
    expect(got[1].json).toMatchObject({event: 'run.failed', task: 'second', exit_code: 2})
    expect(readdirSync(outbox).filter((f) => f.endsWith('.json'))).toEqual([])
    expect(b.daemon!.stderr()).toMatch(/notify\.resumed notifications=1/)
    const history = (await api(b, 'GET', '/api/notifications')).body
    expect(history.notifications.map((n: {task: string; status: string}) => `${n.task}:${n.status}`)).toEqual(['second:sent', 'first:sent'])
  })

  it('kill -9 while the remote has not answered: sent again after the restart and delivered once, with the same delivery id', async ({box, rec, smtp}) => {
    rec.script('/hook', {status: 200, hang: true})
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
events = ["run.failed"]
notifiers = ["hook"]

[tasks.bad]
run = "exit 1"
`),
    )
    await b.start()
    await b.trigger('bad')
    await rec.waitFor('/hook', 1, 60_000, false)
    await b.stop('SIGKILL')
    await b.start()
    const [delivered] = await rec.waitFor('/hook', 1)
    await settle()
    expect(rec.at('/hook')).toHaveLength(2)
    expect(rec.delivered('/hook')).toHaveLength(1)
    expect(delivered.headers['x-sched-delivery']).toBe(rec.at('/hook')[0].headers['x-sched-delivery'])
    expect(delivered.json).toMatchObject({event: 'run.failed', task: 'bad', count: 1})
  })

  it('a flood: a task failing every second makes one message per coalesce window, each with its count, and no failure is lost', async ({box, rec, smtp}) => {
    const b = box.with(
      notifiers(rec, smtp, `
[[route]]
events = ["run.failed"]
notifiers = ["hook"]
coalesce = "3s"

[tasks.flaky]
run = "exit 1"
cron = "* * * * * *"
`),
    )
    await b.start()
    const started = Date.now()
    await until(() => b.runs('flaky').filter((r) => r.end_reason === 'failed').length >= 10, 60_000, '10 failed runs')
    // A clean stop sends what the open window holds.
    expect(await b.stop('SIGTERM')).toBe(0)
    const seconds = (Date.now() - started) / 1000
    const failed = b.runs('flaky').filter((r) => r.end_reason === 'failed').length
    const messages = hooks(rec)
    // What the shutdown flush could not deliver within its grace waits in the outbox for the next start.
    const outbox = join(b.state, 'outbox')
    const waiting = readdirSync(outbox).map((f) => JSON.parse(readFileSync(join(outbox, f), 'utf8')).notice as {count: number})
    // The first failure at once, then at most one per 3 s window, plus the shutdown flush.
    expect(messages.length + waiting.length).toBeLessThanOrEqual(Math.ceil(seconds / 3) + 2)
    expect(messages.length).toBeLessThan(failed)
    expect(messages[0].count).toBe(1)
    expect(messages.some((m) => (m.count as number) > 1)).toBe(true)
    expect([...messages, ...waiting].reduce((n, m) => n + (m.count as number), 0)).toBe(failed)
    for (const m of messages.filter((m) => (m.count as number) > 1)) expect(Date.parse(m.first_at as string)).toBeLessThan(Date.parse(m.last_at as string))
  })

  it('secrets census: tokens, webhook secrets and SMTP passwords appear in no API answer, CLI output, log, error or state file', async ({box, rec, smtp}) => {
    const SECRETS = ['hmac-secret-1', 'slacktoken', 'discordtoken', 'telegramtoken', 'mail-pass-4242', 'ntfy-token-77', 'file-secret-99']
    writeFileSync(box.path('notify.env'), 'NTFY_TOKEN=ntfy-token-77\nHOOK_SECRET=file-secret-99\n')
    const closed = await closedPort()
    const b = box.with(
      notifiers(rec, smtp, `
[notifiers.phone2]
kind = "ntfy"
url = "${rec.url}"
topic = "other"
token = "env:NTFY_TOKEN"
secrets_file = "notify.env"

[notifiers.hook2]
kind = "webhook"
url = "${rec.url}/hook2"
secret = "env:HOOK_SECRET"
secrets_file = "notify.env"

[notifiers.wrongpass]
kind = "email"
host = "127.0.0.1"
port = ${smtp.port}
tls = "none"
user = "sched"
password = "env:WRONG_PASS"
from = "sched@example.com"
to = "ops@example.com"

[notifiers.unreachable]
kind = "slack"
url = "http://127.0.0.1:${closed}/slack/T1/B1/slacktoken"
deadline = "1s"

[[route]]
notifiers = ["hook", "slack", "discord", "tg", "phone", "mail", "phone2", "hook2", "wrongpass", "unreachable"]

[tasks.bad]
run = "exit 1"
`),
    )
    const env = {WRONG_PASS: 'mail-pass-4242x'}
    const texts: [string, string][] = []
    const cli = async (args: string[]) => {
      const r = await b.cli(args, env)
      texts.push([`sched ${args.join(' ')}`, r.stdout + r.stderr])
      return r
    }
    await cli(['validate'])
    await cli(['list'])
    await cli(['list', '--json'])
    await cli(['notify', 'test', 'wrongpass'])
    await cli(['notify', 'test', 'unreachable', '--json'])
    await b.start(env)
    await b.trigger('bad')
    await rec.waitFor('/hook2', 1)
    await until(async () => (await api(b, 'GET', '/api/notifications?status=failed')).body.total >= 2, 60_000, 'wrongpass and unreachable given up')
    for (const path of ['/api/tasks', '/api/tasks/bad', '/api/runs', '/api/notifications', '/api/daemon', '/api/overview', '/metrics']) {
      const r = await api(b, 'GET', path)
      expect(r.status, path).toBe(200)
      texts.push([path, r.text])
    }
    await cli(['status'])
    await cli(['runs', 'bad'])
    await cli(['notify', 'test', 'hook2', '--json'])
    // A config error in a notifier says where, never what the value was.
    const broken = readFileSync(b.config, 'utf8')
      .replace('user = "sched"\npassword = "mail-pass-4242"', 'user = "sched"\npassword = ["mail-pass-4242"]')
      .replace(`url = "${rec.url}/slack/T000/B000/slacktoken"`, 'url = "ftp://hooks.example.com/slacktoken"')
    writeFileSync(b.config, broken)
    const invalid = await cli(['reload'])
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toContain('notifiers.slack.url: expected an http(s) URL')
    expect(invalid.stderr).toContain('notifiers.mail.password: expected a string')
    const daemon = b.daemon!
    await b.stop('SIGTERM')
    texts.push(['daemon stderr', daemon.stderr()])
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]))
    for (const file of files(b.state)) texts.push([file, readFileSync(file, 'latin1')])
    expect(texts.length).toBeGreaterThan(20)
    for (const [where, text] of texts) for (const secret of SECRETS) expect(text.includes(secret), `${secret} in ${where}`).toBe(false)
    // The census can fail: the recorder did receive them.
    expect(rec.at('/hook2')[0].headers['x-sched-signature']).toBe(`sha256=${createHmac('sha256', 'file-secret-99').update(rec.at('/hook2')[0].body).digest('hex')}`)
    expect(rec.at('/').some((r) => r.headers.authorization === 'Bearer ntfy-token-77')).toBe(true)
  })
})
