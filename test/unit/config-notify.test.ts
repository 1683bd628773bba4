import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {type Config, type ConfigIssue, type LoadOptions, loadConfigText} from '../../src/config/load.js'
import {diffConfigs} from '../../src/engine/config-diff.js'

/** [notifiers.*], [[route]], unit notify and [daemon] public_url (SPEC §14), read and checked. */

const TMP = mkdtempSync(join(tmpdir(), 'sched-config-notify-'))
afterAll(() => rmSync(TMP, {recursive: true, force: true}))
const CONFIG = join(TMP, 'sched.toml')
writeFileSync(join(TMP, 'notify.env'), 'TG_TOKEN=from-notifier-file\nSMTP_PASSWORD=pw-from-file\n')
writeFileSync(join(TMP, 'defaults.env'), 'TG_TOKEN=from-defaults-file\nHOOK_SECRET=hook-from-defaults\n')

const S = 1e9
const BASE: LoadOptions = {isRoot: false, hostZone: 'UTC', home: '/home/tester', env: {}}

function load(text: string, options: LoadOptions = {}) {
  return loadConfigText(text, CONFIG, {...BASE, ...options})
}

function config(text: string, options: LoadOptions = {}): {config: Config; warnings: readonly ConfigIssue[]} {
  const r = load(text, options)
  if (!r.ok) throw new Error(`expected the config to load, got:\n${r.errors.map((e) => `${e.key} ${e.line}:${e.column} ${e.message}`).join('\n')}`)
  return {config: r.config, warnings: r.warnings}
}

function errors(text: string, options: LoadOptions = {}): {key: string; at: string; message: string; hint?: string}[] {
  const r = load(text, options)
  if (r.ok) throw new Error('expected errors')
  return r.errors.map((e) => ({key: e.key, at: `${e.line}:${e.column}`, message: e.message, ...(e.hint ? {hint: e.hint} : {})}))
}

const TASK = '[tasks.backup]\nrun = "true"\n'

describe('notifiers', () => {
  it('reads every kind with its settings and fills the defaults', () => {
    const {config: c} = config(`
[notifiers.hook]
kind = "webhook"
url = "https://example.com/hook"
secret = "s3cret-hmac"

[notifiers.slack]
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/XYZ"
rate_limit = 5
deadline = "30m"
timeout = "3s"

[notifiers.discord]
kind = "discord"
url = "https://discord.com/api/webhooks/1/abc"

[notifiers.tg]
kind = "telegram"
token = "123:ABC"
chat_id = -1001234

[notifiers.phone]
kind = "ntfy"
topic = "alerts"
priority = "urgent"

[notifiers.mail]
kind = "email"
host = "smtp.example.com"
tls = "tls"
user = "sched"
password = "mail-pass"
from = "sched <sched@example.com>"
to = "ops@example.com"

[[route]]
notifiers = ["hook", "slack", "discord", "tg", "phone", "mail"]
`)
    const n = c.notify.notifiers
    expect(n.get('hook')).toMatchObject({kind: 'webhook', url: 'https://example.com/hook', secret: 's3cret-hmac', rate_limit: 20, deadline: 3600 * S, timeout: 10 * S, secrets: ['https://example.com/hook', 's3cret-hmac']})
    expect(n.get('slack')).toMatchObject({rate_limit: 5, deadline: 1800 * S, timeout: 3 * S, secrets: ['https://hooks.slack.com/services/T0/B0/XYZ']})
    expect(n.get('discord')?.secrets).toEqual(['https://discord.com/api/webhooks/1/abc'])
    expect(n.get('tg')).toMatchObject({url: 'https://api.telegram.org', token: '123:ABC', chat_id: '-1001234', secrets: ['123:ABC']})
    expect(n.get('phone')).toMatchObject({url: 'https://ntfy.sh', topic: 'alerts', priority: 'urgent', token: '', secrets: []})
    expect(n.get('mail')).toMatchObject({host: 'smtp.example.com', port: 465, tls: 'tls', user: 'sched', password: 'mail-pass', to: ['ops@example.com'], secrets: ['mail-pass']})
  })

  it.each([
    ['starttls', 587],
    ['none', 25],
  ])('an e-mail notifier with tls = %s defaults to port %i', (tls, port) => {
    const {config: c} = config(`[notifiers.m]\nkind = "email"\nhost = "h"\nfrom = "a@b.c"\nto = ["d@e.f", "g@h.i"]\ntls = "${tls}"\n[[route]]\nnotifiers = ["m"]\n`)
    expect(c.notify.notifiers.get('m')).toMatchObject({port, to: ['d@e.f', 'g@h.i']})
  })

  it('"env:NAME": the notifier\'s secrets_file first, then [defaults] secrets_file, then the environment; every such value is a secret', () => {
    const text = (file: string) => `
[defaults]
secrets_file = "defaults.env"
[notifiers.tg]
kind = "telegram"
token = "env:TG_TOKEN"
chat_id = "env:TG_CHAT"
${file}
[notifiers.hook]
kind = "webhook"
url = "env:HOOK_URL"
secret = "env:HOOK_SECRET"
[[route]]
notifiers = ["tg", "hook"]
`
    const env = {TG_TOKEN: 'from-env', TG_CHAT: '@ops', HOOK_URL: 'http://127.0.0.1:9/h', HOOK_SECRET: 'from-env-too'}
    const own = config(text('secrets_file = "notify.env"'), {env}).config.notify.notifiers
    expect(own.get('tg')).toMatchObject({token: 'from-notifier-file', chat_id: '@ops'})
    expect(own.get('tg')?.secrets).toEqual(['from-notifier-file', '@ops'])
    const inherited = config(text(''), {env}).config.notify.notifiers
    expect(inherited.get('tg')?.token).toBe('from-defaults-file')
    expect(inherited.get('hook')).toMatchObject({url: 'http://127.0.0.1:9/h', secret: 'hook-from-defaults', secrets: ['http://127.0.0.1:9/h', 'hook-from-defaults']})
  })

  it('an "env:NAME" that is not set is a warning, and the notifier remembers it cannot send', () => {
    const {config: c, warnings} = config(`[notifiers.tg]\nkind = "telegram"\ntoken = "env:NOPE_TOKEN"\nchat_id = 1\n[[route]]\nnotifiers = ["tg"]\n`)
    expect(warnings.map((w) => [w.key, `${w.line}:${w.column}`, w.message])).toEqual([['notifiers.tg.token', '3:1', 'env:NOPE_TOKEN is not set: notifier "tg" cannot send until it is']])
    expect(c.notify.notifiers.get('tg')?.unresolved).toEqual(['token (env:NOPE_TOKEN)'])
  })

  it('reports every mistake at once, each with its key, line, column and a hint', () => {
    const text = `[notifiers.a]
kind = "slak"

[notifiers.b]
kind = "telegram"
chat_id = 5
topik = "x"

[notifiers.c]
kind = "ntfy"
topic = "t"
chat_id = 1

[notifiers.d]
url = "https://x"

[notifiers.e]
kind = "webhook"
url = "ftp://example.com"
rate_limit = 0

[notifiers.f]
kind = "email"
host = "h"
from = "not-an-address"
to = []
tls = "ssl"

[notifiers.g]
kind = "telegram"
token = "env:bad-name"
chat_id = 1

[[route]]
events = ["run.failed", "run.recoverd", 7]
notifiers = ["a", "zz"]
coalesce = "ten minutes"
tasks = "backup"
colaesce = "1m"

[[route]]
events = ["run.failed"]

[tasks.backup]
run = "true"
notify = ["hoook"]
`
    expect(errors(text)).toEqual([
      {key: 'notifiers.a.kind', at: '2:1', message: 'must be one of "webhook", "slack", "discord", "telegram", "ntfy", "email", got the string "slak"', hint: 'did you mean "slack"?'},
      {key: 'notifiers.b', at: '4:1', message: 'a telegram notifier needs token', hint: 'the bot token from @BotFather, e.g. token = "env:TELEGRAM_TOKEN"'},
      {key: 'notifiers.b.topik', at: '7:1', message: 'unknown key "topik"', hint: 'a telegram notifier takes kind, url, token, chat_id, rate_limit, deadline, timeout, secrets_file'},
      {key: 'notifiers.c.chat_id', at: '12:1', message: '"chat_id" does not apply to a ntfy notifier', hint: 'it is a setting of telegram notifiers'},
      {key: 'notifiers.d', at: '14:1', message: 'notifier "d" has no kind', hint: 'add kind = one of "webhook", "slack", "discord", "telegram", "ntfy", "email"'},
      // A webhook URL may carry a token: the error never repeats it.
      {key: 'notifiers.e.url', at: '19:1', message: 'expected an http(s) URL'},
      {key: 'notifiers.e.rate_limit', at: '20:1', message: 'must be between 1 and 10000, got 0'},
      {key: 'notifiers.f.from', at: '25:1', message: 'expected an e-mail address, got the string "not-an-address"'},
      {key: 'notifiers.f.to', at: '26:1', message: 'must not be empty'},
      {key: 'notifiers.f.tls', at: '27:1', message: 'must be one of "starttls", "tls", "none", got the string "ssl"'},
      {key: 'notifiers.g.token', at: '31:1', message: '"env:bad-name" does not name an environment variable', hint: 'write "env:NAME" with NAME made of letters, digits and "_"'},
      {key: 'route[0].events[1]', at: '35:25', message: 'unknown event kind "run.recoverd"', hint: 'did you mean "run.recovered"?'},
      {key: 'route[0].events[2]', at: '35:41', message: 'unknown event kind the integer 7', hint: expect.stringContaining('kinds: run.failed, run.timeout')},
      {key: 'route[0].notifiers[1]', at: '36:19', message: 'unknown notifier "zz"', hint: 'notifiers: a, b, c, d, e, f, g'},
      {key: 'route[0].coalesce', at: '37:1', message: expect.stringContaining('expected a duration such as')},
      {key: 'route[0].tasks', at: '38:1', message: 'expected an array, got the string "backup"', hint: 'write a list of names or glob patterns, e.g. ["backup-*"]'},
      {key: 'route[0].colaesce', at: '39:1', message: 'unknown key "colaesce"', hint: 'did you mean "coalesce"?'},
      {key: 'route[1]', at: '41:1', message: 'a route needs notifiers', hint: 'add notifiers = ["ID", …] naming [notifiers.ID] tables'},
      {key: 'tasks.backup.notify[0]', at: '46:11', message: 'unknown notifier "hoook"', hint: 'declare it as a [notifiers.ID] table'},
    ])
  })

  it('route = "x" instead of [[route]] tables', () => {
    expect(errors('route = "ops"\n')).toEqual([{key: 'route', at: '1:1', message: 'expected [[route]] tables, got the string "ops"', hint: 'write each route as a [[route]] table'}])
  })
})

describe('routes', () => {
  const NTFY = '[notifiers.ops]\nkind = "ntfy"\ntopic = "ops"\n[notifiers.mail]\nkind = "email"\nhost = "h"\nfrom = "a@b.c"\nto = "d@e.f"\n'

  it('default: every failure event, every unit, a 10 minute window', () => {
    const {config: c} = config(`${NTFY}[[route]]\nnotifiers = ["ops", "mail", "ops"]\n${TASK}`)
    expect(c.notify.routes).toEqual([
      {
        name: 'route[0]',
        events: ['run.failed', 'run.timeout', 'run.crashed', 'run.missed', 'service.fatal', 'disk.full', 'notify.delivery_failed'],
        tasks: [],
        groups: [],
        units: [],
        notifiers: ['ops', 'mail'],
        coalesce: 600 * S,
      },
    ])
  })

  it('a unit\'s notify is a route of its own; units inheriting it from [defaults] share one', () => {
    const {config: c} = config(`${NTFY}
[defaults]
notify = ["ops"]
[tasks.a]
run = "true"
[tasks.b]
run = "true"
notify = ["mail"]
[services.c]
run = "true"
[[route]]
events = ["run.recovered"]
tasks = ["a", "b*"]
groups = ["ops-*"]
notifiers = ["mail"]
coalesce = "0s"
`)
    expect(c.notify.routes.map((r) => [r.name, r.units, r.notifiers, r.tasks, r.groups, r.coalesce])).toEqual([
      ['route[0]', [], ['mail'], ['a', 'b*'], ['ops-*'], 0],
      ['defaults.notify', ['a', 'c'], ['ops'], [], [], 600 * S],
      ['tasks.b.notify', ['b'], ['mail'], [], [], 600 * S],
    ])
  })

  it('an unknown notifier named in [defaults] notify is one error, at [defaults]', () => {
    expect(errors('[defaults]\nnotify = ["nope"]\n[tasks.a]\nrun = "true"\n[tasks.b]\nrun = "true"\n')).toEqual([{key: 'defaults.notify[0]', at: '2:11', message: 'unknown notifier "nope"', hint: 'declare it as a [notifiers.ID] table'}])
  })

  it('warns about notifiers no route uses and globs that match nothing', () => {
    const {warnings} = config(`${NTFY}[[route]]\nnotifiers = ["ops"]\ntasks = ["bakup*", "backup"]\ngroups = ["db"]\n${TASK}`)
    expect(warnings.map((w) => [w.key, `${w.line}:${w.column}`, w.message])).toEqual([
      ['notifiers.mail', '4:1', 'no route sends to notifier "mail"'],
      ['route[0].tasks[0]', '11:10', '"bakup*" matches no task or service'],
      ['route[0].groups[0]', '12:11', '"db" matches no group'],
    ])
  })
})

describe('[daemon] public_url', () => {
  it('is kept without its trailing slash', () => {
    expect(config('[daemon]\npublic_url = "https://sched.example.com/"\n').config.daemon.public_url).toBe('https://sched.example.com')
  })

  it('must be an http(s) URL', () => {
    expect(errors('[daemon]\npublic_url = "sched.example.com"\n')).toEqual([
      {key: 'daemon.public_url', at: '2:1', message: 'expected an http(s) URL, got the string "sched.example.com"', hint: 'write the whole URL, e.g. "https://example.com/path"'},
    ])
  })
})

describe('reload', () => {
  it('a change of notify, notifiers or routes alone changes no unit (a service is not restarted for it)', () => {
    const before = config('[notifiers.a]\nkind = "ntfy"\ntopic = "a"\n[services.web]\nrun = "true"\nnotify = ["a"]\n').config
    const after = config('[notifiers.a]\nkind = "ntfy"\ntopic = "b"\n[notifiers.z]\nkind = "ntfy"\ntopic = "z"\n[[route]]\nnotifiers = ["z"]\n[services.web]\nrun = "true"\nnotify = ["a", "z"]\n').config
    expect(diffConfigs(before, after)).toEqual({ok: true, added: [], removed: [], changed: []})
  })
})
