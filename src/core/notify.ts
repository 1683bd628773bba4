/** The vocabulary of notifications (SPEC §14): event kinds, notifier kinds, and their settings. */

export const NOTIFY_EVENTS = [
  'run.failed',
  'run.timeout',
  'run.crashed',
  'run.missed',
  'run.recovered',
  'service.fatal',
  'service.recovered',
  'disk.full',
  'notify.delivery_failed',
] as const
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]

/** What a route without `events` (and a unit's `notify` shortcut) listens to: every failure, no recovery. */
export const FAILURE_EVENTS: readonly NotifyEvent[] = ['run.failed', 'run.timeout', 'run.crashed', 'run.missed', 'service.fatal', 'disk.full', 'notify.delivery_failed']

export const NOTIFIER_KINDS = ['webhook', 'slack', 'discord', 'telegram', 'ntfy', 'email'] as const
export type NotifierKind = (typeof NOTIFIER_KINDS)[number]

export const SMTP_TLS = ['starttls', 'tls', 'none'] as const
export type SmtpTls = (typeof SMTP_TLS)[number]

/** ntfy's priority names, 1 (min) to 5 (max). */
export const NTFY_PRIORITIES = ['min', 'low', 'default', 'high', 'urgent'] as const
export type NtfyPriority = (typeof NTFY_PRIORITIES)[number]

/**
 * One `[notifiers.<id>]` table at its effective values. Values written as `"env:NAME"` are
 * resolved; `secrets` lists every value that must never be shown (tokens, passwords, webhook
 * URLs that carry a token), so error texts can be scrubbed before they are stored or logged.
 */
export interface NotifierConfig {
  readonly id: string
  readonly kind: NotifierKind
  /** Endpoint: the webhook URL (webhook, slack, discord) or the server's base URL (telegram, ntfy). */
  readonly url: string
  readonly token: string
  readonly secret: string
  readonly chat_id: string
  readonly topic: string
  /** ntfy: the priority of every message but recoveries; undefined = chosen per event. */
  readonly priority?: NtfyPriority
  readonly host: string
  readonly port: number
  readonly tls: SmtpTls
  readonly user: string
  readonly password: string
  readonly from: string
  readonly to: readonly string[]
  /** Messages per minute this notifier sends at most. */
  readonly rate_limit: number
  /** Nanoseconds a message is retried before it is given up (notify.delivery_failed). */
  readonly deadline: number
  /** Nanoseconds one attempt may take. */
  readonly timeout: number
  readonly secrets: readonly string[]
  /** Settings whose `"env:NAME"` was not set when the config loaded, e.g. `token (env:TG_TOKEN)`. */
  readonly unresolved: readonly string[]
}

/** One `[[route]]` table, or a unit's `notify = [...]` shortcut. */
export interface RouteConfig {
  /** How the route is named in history and messages: `route[0]`, or `tasks.backup.notify`. */
  readonly name: string
  readonly events: readonly NotifyEvent[]
  /** Glob patterns over unit names; empty = any unit. */
  readonly tasks: readonly string[]
  /** Glob patterns over unit groups; empty = any group. */
  readonly groups: readonly string[]
  /** Exact unit names (the `notify` shortcut); empty = no restriction. */
  readonly units: readonly string[]
  readonly notifiers: readonly string[]
  /** Nanoseconds; 0 = every event is its own message. */
  readonly coalesce: number
}

export interface NotifyConfig {
  readonly notifiers: ReadonlyMap<string, NotifierConfig>
  /** `[[route]]` tables in file order, then the units' `notify` shortcuts by unit name. */
  readonly routes: readonly RouteConfig[]
}

export const NO_NOTIFY: NotifyConfig = {notifiers: new Map(), routes: []}

/** Where a notification stands: waiting in the outbox, delivered, or given up. */
export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed'] as const
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number]

/** A message as GET /api/notifications shows it: `notifications/<id>.<status>.json` once settled. */
export interface NotificationRecord {
  readonly v: number
  readonly id: string
  readonly event: string
  readonly task: string | null
  readonly run_id: string | null
  readonly route: string
  readonly notifier: string
  readonly title: string
  readonly count: number
  readonly status: NotificationStatus
  readonly attempts: number
  readonly last_error: string | null
  readonly last_response: string | null
  readonly created_at: string
  readonly finished_at: string | null
}
