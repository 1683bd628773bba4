import {NS} from '../core/duration.js'
import {
  FAILURE_EVENTS,
  NOTIFIER_KINDS,
  NOTIFY_EVENTS,
  NTFY_PRIORITIES,
  type NotifierConfig,
  type NotifierKind,
  type NotifyConfig,
  type NotifyEvent,
  type RouteConfig,
  SMTP_TLS,
  type SmtpTls,
} from '../core/notify.js'
import {matchesGlob} from '../core/glob.js'
import type {Unit} from '../core/types.js'
import {resolveConfigPath} from './paths.js'
import {suggest} from './suggest.js'
import type {Path} from './toml.js'
import {ENV_NAME, Invalid, type Reader, arrayOf, describe, duration, httpUrl, int, isTable, nonEmpty, oneOf} from './values.js'

/**
 * `[notifiers.<id>]`, `[[route]]` and the units' `notify` shortcuts (SPEC §14), read into a
 * NotifyConfig. String settings may be `"env:NAME"`: the value comes from the notifier's
 * `secrets_file`, else `[defaults] secrets_file`, else the environment of the process loading
 * the file (the daemon's, for the daemon).
 */

const ALL = 'all'

interface NotifierField {
  readonly kinds: readonly NotifierKind[] | typeof ALL
  readonly read: Reader<unknown>
  /** Holds a credential: kept out of every text sched shows. */
  readonly secret?: (kind: NotifierKind) => boolean
}

const chatId: Reader<string> = (raw) => {
  if (typeof raw === 'number' && Number.isInteger(raw)) return String(raw)
  const s = nonEmpty(raw)
  return s instanceof Invalid ? new Invalid(`expected a chat id (an integer or "@channel"), got ${describe(raw)}`) : s
}

const address: Reader<string> = (raw) => {
  const s = nonEmpty(raw)
  if (s instanceof Invalid) return s
  return /^[^@\s<>]+@[^@\s<>]+$/.test(s) || /<[^@\s<>]+@[^@\s<>]+>\s*$/.test(s) ? s : new Invalid(`expected an e-mail address, got ${describe(raw)}`)
}

const addresses: Reader<string[]> = (raw) => (typeof raw === 'string' ? wrap(address(raw)) : arrayOf(address, {nonEmpty: true})(raw))

function wrap<T>(v: T | Invalid): T[] | Invalid {
  return v instanceof Invalid ? v : [v]
}

const always = () => true
const webhookLike = (kind: NotifierKind) => kind === 'webhook' || kind === 'slack' || kind === 'discord'

export const NOTIFIER_FIELDS: Readonly<Record<string, NotifierField>> = {
  kind: {kinds: ALL, read: oneOf(NOTIFIER_KINDS)},
  // Slack and Discord webhook URLs carry their token; a webhook's may.
  url: {kinds: ['webhook', 'slack', 'discord', 'telegram', 'ntfy'], read: httpUrl, secret: webhookLike},
  secret: {kinds: ['webhook'], read: nonEmpty, secret: always},
  token: {kinds: ['telegram', 'ntfy'], read: nonEmpty, secret: always},
  chat_id: {kinds: ['telegram'], read: chatId},
  topic: {kinds: ['ntfy'], read: nonEmpty},
  priority: {kinds: ['ntfy'], read: oneOf(NTFY_PRIORITIES)},
  host: {kinds: ['email'], read: nonEmpty},
  port: {kinds: ['email'], read: int(1, 65_535)},
  tls: {kinds: ['email'], read: oneOf(SMTP_TLS)},
  user: {kinds: ['email'], read: nonEmpty},
  password: {kinds: ['email'], read: nonEmpty, secret: always},
  from: {kinds: ['email'], read: address},
  to: {kinds: ['email'], read: addresses},
  rate_limit: {kinds: ALL, read: int(1, 10_000)},
  deadline: {kinds: ALL, read: duration({min: NS.s, max: 7 * 24 * NS.h})},
  timeout: {kinds: ALL, read: duration({min: 100 * NS.ms, max: 10 * NS.m})},
  secrets_file: {kinds: ALL, read: nonEmpty},
}

const REQUIRED: Readonly<Record<NotifierKind, readonly string[]>> = {
  webhook: ['url'],
  slack: ['url'],
  discord: ['url'],
  telegram: ['token', 'chat_id'],
  ntfy: ['topic'],
  email: ['host', 'from', 'to'],
}

const BASE_URL: Partial<Record<NotifierKind, string>> = {telegram: 'https://api.telegram.org', ntfy: 'https://ntfy.sh'}
const SMTP_PORT: Readonly<Record<SmtpTls, number>> = {tls: 465, starttls: 587, none: 25}

export const NOTIFIER_DEFAULTS = {rate_limit: 20, deadline: NS.h, timeout: 10 * NS.s} as const

const ROUTE_KEYS = ['events', 'tasks', 'groups', 'notifiers', 'coalesce'] as const
export const DEFAULT_COALESCE = 10 * NS.m

export interface NotifyContext {
  readonly dir: string
  readonly home: string
  readonly env: NodeJS.ProcessEnv
  error(path: Path, message: string, hint?: string): void
  warn(path: Path, message: string, hint?: string): void
  dotenv(path: Path, file: string): Record<string, string> | undefined
  /** `[defaults] secrets_file`, read, if it is set. */
  readonly defaultSecrets?: Readonly<Record<string, string>>
}

/** Where a unit's effective `notify` list was written: the unit itself or `[defaults]`. */
export interface UnitNotify {
  readonly unit: Unit
  readonly path: Path
}

export function readNotify(root: Record<string, unknown>, units: readonly UnitNotify[], ctx: NotifyContext): NotifyConfig {
  const notifiers = readNotifiers(root.notifiers, ctx)
  // A notifier with an error of its own is still declared: naming it is not a second error.
  const declared = new Set(isTable(root.notifiers) ? Object.keys(root.notifiers) : [])
  const routes: RouteConfig[] = [...readRoutes(root.route, declared, units.map((u) => u.unit), ctx), ...unitRoutes(units, declared, ctx)]
  const used = new Set(routes.flatMap((r) => r.notifiers))
  for (const id of notifiers.keys()) {
    if (!used.has(id)) ctx.warn(['notifiers', id], `no route sends to notifier "${id}"`, `name it in a [[route]] notifiers list or a unit's notify = ["${id}"]`)
  }
  return {notifiers, routes}
}

function readNotifiers(raw: unknown, ctx: NotifyContext): Map<string, NotifierConfig> {
  const out = new Map<string, NotifierConfig>()
  if (raw === undefined) return out
  if (!isTable(raw)) {
    ctx.error(['notifiers'], `expected a table of notifiers, got ${describe(raw)}`, 'write [notifiers.NAME] tables')
    return out
  }
  for (const [id, table] of Object.entries(raw)) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(id)) {
      ctx.error(['notifiers', id], `notifier id "${id}" must be 1-100 characters of letters, digits, ".", "_" or "-"`)
      continue
    }
    const notifier = readNotifier(id, table, ctx)
    if (notifier) out.set(id, notifier)
  }
  return out
}

function readNotifier(id: string, raw: unknown, ctx: NotifyContext): NotifierConfig | undefined {
  const base: Path = ['notifiers', id]
  if (!isTable(raw)) {
    ctx.error(base, `expected a table, got ${describe(raw)}`, `write [notifiers.${id}] followed by kind = "slack" and its settings`)
    return undefined
  }
  let ok = true
  const fail = (path: Path, message: string, hint?: string) => {
    ctx.error(path, message, hint)
    ok = false
  }
  const kindValue = raw.kind === undefined ? undefined : NOTIFIER_FIELDS.kind.read(raw.kind)
  if (kindValue === undefined) {
    fail(base, `notifier "${id}" has no kind`, `add kind = one of ${NOTIFIER_KINDS.map((k) => `"${k}"`).join(', ')}`)
    return undefined
  }
  if (kindValue instanceof Invalid) {
    fail([...base, 'kind'], kindValue.message, kindValue.hint ?? hintFor(String(raw.kind), NOTIFIER_KINDS))
    return undefined
  }
  const kind = kindValue as NotifierKind
  const fileSecrets = typeof raw.secrets_file === 'string' && raw.secrets_file.trim() !== '' ? ctx.dotenv([...base, 'secrets_file'], resolveConfigPath(raw.secrets_file, ctx.dir, ctx.home)) : undefined
  const values = new Map<string, unknown>()
  const secrets: string[] = []
  const unresolved: string[] = []
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'kind') continue
    const f = NOTIFIER_FIELDS[key]
    if (!f) {
      const near = suggest(key, Object.keys(NOTIFIER_FIELDS).filter((k) => applies(k, kind)))
      fail([...base, key], `unknown key "${key}"`, near ? `did you mean "${near}"?` : `a ${kind} notifier takes ${Object.keys(NOTIFIER_FIELDS).filter((k) => applies(k, kind)).join(', ')}`)
      continue
    }
    if (!applies(key, kind)) {
      const owners = f.kinds === ALL ? [] : f.kinds
      fail([...base, key], `"${key}" does not apply to a ${kind} notifier`, `it is a setting of ${owners.join(', ')} notifiers`)
      continue
    }
    let input = value
    const ref = typeof value === 'string' && value.startsWith('env:') ? value.slice(4) : undefined
    if (ref !== undefined && key !== 'secrets_file') {
      if (!ENV_NAME.test(ref)) {
        fail([...base, key], `"${value}" does not name an environment variable`, 'write "env:NAME" with NAME made of letters, digits and "_"')
        continue
      }
      input = fileSecrets?.[ref] ?? ctx.defaultSecrets?.[ref] ?? ctx.env[ref]
      if (input === undefined || input === '') {
        ctx.warn([...base, key], `${value} is not set: notifier "${id}" cannot send until it is`, `set ${ref} in the daemon's environment or in a secrets_file`)
        unresolved.push(`${key} (${value})`)
        continue
      }
      // A value read from the environment or a secrets file is treated as a credential.
      secrets.push(input as string)
    }
    const v = f.read(input)
    if (v instanceof Invalid) {
      // What a credential was is never repeated, even a wrong one: only what was expected.
      const shown = ref !== undefined ? `${value}: ${v.message.replace(/, got .*$/, '')}` : f.secret?.(kind) ? v.message.replace(/, got .*$/, '') : v.message
      fail([...base, key], shown, v.hint)
      continue
    }
    values.set(key, v)
    if (f.secret?.(kind) && typeof v === 'string') secrets.push(v)
  }
  for (const key of REQUIRED[kind]) {
    if (!(key in raw)) fail(base, `a ${kind} notifier needs ${key}`, requiredHint(kind, key))
  }
  if (!ok) return undefined
  const get = <T>(key: string, dflt: T): T => (values.has(key) ? (values.get(key) as T) : dflt)
  const tls = get<SmtpTls>('tls', 'starttls')
  return {
    id,
    kind,
    url: get('url', BASE_URL[kind] ?? ''),
    token: get('token', ''),
    secret: get('secret', ''),
    chat_id: get('chat_id', ''),
    topic: get('topic', ''),
    priority: get<NotifierConfig['priority']>('priority', undefined),
    host: get('host', ''),
    port: get('port', SMTP_PORT[tls]),
    tls,
    user: get('user', ''),
    password: get('password', ''),
    from: get('from', ''),
    to: get<string[]>('to', []),
    rate_limit: get('rate_limit', NOTIFIER_DEFAULTS.rate_limit),
    deadline: get('deadline', NOTIFIER_DEFAULTS.deadline),
    timeout: get('timeout', NOTIFIER_DEFAULTS.timeout),
    secrets: [...new Set(secrets)],
    unresolved,
  }
}

function applies(key: string, kind: NotifierKind): boolean {
  const f = NOTIFIER_FIELDS[key]
  return f !== undefined && (f.kinds === ALL || f.kinds.includes(kind))
}

function requiredHint(kind: NotifierKind, key: string): string {
  switch (`${kind}.${key}`) {
    case 'slack.url':
      return 'the incoming-webhook URL, e.g. url = "env:SLACK_WEBHOOK_URL"'
    case 'discord.url':
      return 'the channel webhook URL, e.g. url = "env:DISCORD_WEBHOOK_URL"'
    case 'telegram.token':
      return 'the bot token from @BotFather, e.g. token = "env:TELEGRAM_TOKEN"'
    case 'telegram.chat_id':
      return 'the chat to post to, e.g. chat_id = -1001234567890'
    case 'ntfy.topic':
      return 'the topic to publish to, e.g. topic = "sched-alerts"'
    default:
      return `add ${key} = …`
  }
}

function hintFor(value: string, options: readonly string[]): string | undefined {
  const near = suggest(value, options)
  return near ? `did you mean "${near}"?` : undefined
}

function readRoutes(raw: unknown, notifiers: ReadonlySet<string>, units: readonly Unit[], ctx: NotifyContext): RouteConfig[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) {
    ctx.error(['route'], `expected [[route]] tables, got ${describe(raw)}`, 'write each route as a [[route]] table')
    return []
  }
  const out: RouteConfig[] = []
  raw.forEach((table, i) => {
    const base: Path = ['route', i]
    if (!isTable(table)) {
      ctx.error(base, `expected a table, got ${describe(table)}`)
      return
    }
    let ok = true
    const fail = (path: Path, message: string, hint?: string) => {
      ctx.error(path, message, hint)
      ok = false
    }
    for (const key of Object.keys(table)) {
      if (!(ROUTE_KEYS as readonly string[]).includes(key)) {
        const near = suggest(key, ROUTE_KEYS)
        fail([...base, key], `unknown key "${key}"`, near ? `did you mean "${near}"?` : `a route takes ${ROUTE_KEYS.join(', ')}`)
      }
    }
    const events = table.events === undefined ? FAILURE_EVENTS : readEvents(table.events, [...base, 'events'], fail)
    const tasks = readGlobs(table.tasks, [...base, 'tasks'], fail)
    const groups = readGlobs(table.groups, [...base, 'groups'], fail)
    let ids: string[] = []
    if (table.notifiers === undefined) fail(base, 'a route needs notifiers', 'add notifiers = ["ID", …] naming [notifiers.ID] tables')
    else ids = readIds(table.notifiers, [...base, 'notifiers'], notifiers, fail)
    let coalesce = DEFAULT_COALESCE
    if (table.coalesce !== undefined) {
      const v = duration({max: 24 * NS.h})(table.coalesce)
      if (v instanceof Invalid) fail([...base, 'coalesce'], v.message, v.hint)
      else coalesce = v
    }
    if (!ok || !events || !tasks || !groups) return
    for (const [key, globs, of] of [['tasks', tasks, (u: Unit) => u.name], ['groups', groups, (u: Unit) => u.group]] as const) {
      globs.forEach((glob, j) => {
        if (!units.some((u) => matchesGlob(glob, of(u)))) ctx.warn([...base, key, j], `"${glob}" matches no ${key === 'tasks' ? 'task or service' : 'group'}`, 'check the spelling; the route still applies to units added later')
      })
    }
    out.push({name: `route[${i}]`, events, tasks, groups, units: [], notifiers: ids, coalesce})
  })
  return out
}

function readEvents(raw: unknown, path: Path, fail: (p: Path, m: string, h?: string) => void): NotifyEvent[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    fail(path, `expected a non-empty array of event kinds, got ${describe(raw)}`, `kinds: ${NOTIFY_EVENTS.join(', ')}`)
    return undefined
  }
  const out: NotifyEvent[] = []
  raw.forEach((e, i) => {
    if (typeof e === 'string' && (NOTIFY_EVENTS as readonly string[]).includes(e)) out.push(e as NotifyEvent)
    else fail([...path, i], `unknown event kind ${typeof e === 'string' ? JSON.stringify(e) : describe(e)}`, (typeof e === 'string' && hintFor(e, NOTIFY_EVENTS)) || `kinds: ${NOTIFY_EVENTS.join(', ')}`)
  })
  return out.length === raw.length ? [...new Set(out)] : undefined
}

function readGlobs(raw: unknown, path: Path, fail: (p: Path, m: string, h?: string) => void): string[] | undefined {
  if (raw === undefined) return []
  const v = arrayOf(nonEmpty, {nonEmpty: true})(raw)
  if (v instanceof Invalid) {
    fail(path, v.message, 'write a list of names or glob patterns, e.g. ["backup-*"]')
    return undefined
  }
  return v
}

function readIds(raw: unknown, path: Path, notifiers: ReadonlySet<string>, fail: (p: Path, m: string, h?: string) => void): string[] {
  const v = arrayOf(nonEmpty, {nonEmpty: true})(raw)
  if (v instanceof Invalid) {
    fail(path, v.message, 'write notifiers = ["ID", …] naming [notifiers.ID] tables')
    return []
  }
  v.forEach((id, i) => {
    if (!notifiers.has(id)) fail([...path, i], `unknown notifier "${id}"`, hintFor(id, [...notifiers]) ?? (notifiers.size ? `notifiers: ${[...notifiers].join(', ')}` : 'declare it as a [notifiers.ID] table'))
  })
  return [...new Set(v)]
}

/**
 * A unit's `notify = [...]` is a route for that unit's failures. Units inheriting the list from
 * `[defaults]` share one route, so a thousand units do not make a thousand routes.
 */
function unitRoutes(units: readonly UnitNotify[], notifiers: ReadonlySet<string>, ctx: NotifyContext): RouteConfig[] {
  const routes = new Map<string, {name: string; units: string[]; notifiers: string[]}>()
  const checked = new Set<string>()
  for (const {unit, path} of units) {
    if (unit.notify.length === 0) continue
    const where = path.map(String).join('.')
    let ids = [...new Set(unit.notify)]
    if (!checked.has(where)) {
      checked.add(where)
      unit.notify.forEach((id, i) => {
        if (!notifiers.has(id)) ctx.error([...path, i], `unknown notifier "${id}"`, hintFor(id, [...notifiers]) ?? 'declare it as a [notifiers.ID] table')
      })
    }
    ids = ids.filter((id) => notifiers.has(id))
    const key = `${where}\u0000${ids.join('\u0000')}`
    const route = routes.get(key) ?? {name: where, units: [], notifiers: ids}
    route.units.push(unit.name)
    routes.set(key, route)
  }
  return [...routes.values()].map((r) => ({name: r.name, events: FAILURE_EVENTS, tasks: [], groups: [], units: r.units, notifiers: r.notifiers, coalesce: DEFAULT_COALESCE}))
}
