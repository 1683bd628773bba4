import type {NotifyEvent} from '../core/notify.js'
import type {EndReason, TriggerSource} from '../core/types.js'
import type {RunRecord} from '../state/run-record.js'
import type {Batch} from './coalesce.js'

/** The kinds a message can be: the routed events, and the message `sched notify test` sends. */
export type NoticeEvent = NotifyEvent | 'notify.test'

/**
 * Something worth telling, captured when it happened: the routed event with the facts its
 * message needs. Folded occurrences keep only the latest.
 */
export interface Occurrence {
  readonly event: NotifyEvent
  readonly at: number
  /** The unit it is about (absent for daemon-wide events). */
  readonly task?: string
  readonly group?: string
  readonly run?: Omit<RunRecord, 'v' | 'process_start'>
  /** A task's retry_attempts + 1: the m of "attempt n of m". */
  readonly attempts?: number
  /** service.recovered: how many instances are up. */
  readonly instances?: {readonly healthy: number; readonly total: number}
  /** notify.delivery_failed: the message that was given up. */
  readonly failed?: {readonly notifier: string; readonly title: string; readonly attempts: number; readonly error: string}
}

/**
 * One message to one notifier, as every format renders it and as the outbox keeps it: the
 * documented webhook fields (SPEC §14) plus the words for people. It holds no credential.
 */
export interface Notice {
  readonly id: string
  readonly event: NoticeEvent
  readonly route: string
  readonly notifier: string
  readonly task: string | null
  readonly run_id: string | null
  readonly end_reason: EndReason | null
  readonly exit_code: number | null
  readonly signal: string | null
  readonly duration_ms: number | null
  readonly attempt: number | null
  readonly attempts: number | null
  readonly triggered_by: TriggerSource | null
  readonly scheduled_at: string | null
  readonly log_tail: readonly string[]
  /** How many occurrences this message stands for (coalescing), and when the first and last were. */
  readonly count: number
  readonly first_at: string
  readonly last_at: string
  readonly next_run_at: string | null
  /** The run's page in the dashboard (`<public_url>/runs/<id>`), or null without public_url. */
  readonly url: string | null
  /** One line: what happened. */
  readonly title: string
  /** What happened, in sentences. */
  readonly summary: string
  /** What to do next. */
  readonly action: string
  readonly host: string
  readonly created_at: string
}

/** What is read around an occurrence when its message is made (not at event time). */
export interface NoticeContext {
  readonly id: string
  readonly route: string
  readonly notifier: string
  readonly now: number
  readonly host: string
  readonly logTail: readonly string[]
  readonly nextRunAt?: number
  readonly publicUrl?: string
}

export const LOG_TAIL_LINES = 20

export function buildNotice(batch: Batch<Occurrence>, ctx: NoticeContext): Notice {
  const o = batch.item
  const run = o.run
  const title = titleOf(o)
  return {
    id: ctx.id,
    event: o.event,
    route: ctx.route,
    notifier: ctx.notifier,
    task: o.task ?? null,
    run_id: run?.id ?? null,
    end_reason: run?.end_reason ?? null,
    exit_code: run?.exit_code ?? null,
    signal: run?.signal ?? null,
    duration_ms: run?.duration_ms ?? null,
    attempt: run && run.kind === 'task' ? run.retry_attempt + 1 : null,
    attempts: run && run.kind === 'task' ? (o.attempts ?? null) : null,
    triggered_by: run?.triggered_by ?? null,
    scheduled_at: run?.scheduled_at ?? null,
    log_tail: ctx.logTail,
    count: batch.count,
    first_at: iso(batch.first),
    last_at: iso(batch.last),
    next_run_at: ctx.nextRunAt === undefined ? null : iso(ctx.nextRunAt),
    url: run && ctx.publicUrl ? `${ctx.publicUrl}/runs/${run.id}` : null,
    title: batch.count > 1 ? `${title} (${batch.count} times)` : title,
    summary: summaryOf(o, batch),
    action: actionOf(o),
    host: ctx.host,
    created_at: iso(ctx.now),
  }
}

/** The message `sched notify test` sends: every field present, so a receiver sees the real shape. */
export function testNotice(notifier: string, kind: string, ctx: Pick<NoticeContext, 'id' | 'now' | 'host'>): Notice {
  const at = iso(ctx.now)
  return {
    id: ctx.id,
    event: 'notify.test',
    route: 'test',
    notifier,
    task: null,
    run_id: null,
    end_reason: null,
    exit_code: null,
    signal: null,
    duration_ms: null,
    attempt: null,
    attempts: null,
    triggered_by: null,
    scheduled_at: null,
    log_tail: [],
    count: 1,
    first_at: at,
    last_at: at,
    next_run_at: null,
    url: null,
    title: `Test notification from sched on ${ctx.host}`,
    summary: `If you can read this, notifier "${notifier}" (${kind}) works.`,
    action: 'Nothing to do.',
    host: ctx.host,
    created_at: at,
  }
}

/** Failure, success or neither: the colour of a message on platforms that have one. */
export function severity(event: NoticeEvent): 'error' | 'ok' | 'info' {
  if (event === 'run.recovered' || event === 'service.recovered') return 'ok'
  return event === 'notify.test' ? 'info' : 'error'
}

function titleOf(o: Occurrence): string {
  const task = o.task ?? ''
  const words = o.run?.message ?? undefined
  switch (o.event) {
    case 'run.failed':
      return `${task} failed${words ? `: ${words}` : ''}`
    case 'run.timeout':
      return `${task} ${words ?? 'timed out'}`
    case 'run.crashed':
      return `${task} crashed: the daemon stopped while it was running`
    case 'run.missed':
      return `${task} missed its schedule${words ? `: ${words}` : ''}`
    case 'run.recovered':
      return `${task} recovered`
    case 'service.fatal':
      return `${task} is FATAL`
    case 'service.recovered':
      return `${task} recovered`
    case 'notify.delivery_failed':
      return `A notification could not be delivered to ${o.failed?.notifier ?? 'a notifier'}`
    case 'disk.full':
      return 'The state directory is full'
  }
}

function summaryOf(o: Occurrence, batch: Batch<Occurrence>): string {
  const parts: string[] = []
  const run = o.run
  if (o.event === 'service.fatal' && run) {
    parts.push(`Instance ${run.instance_index ?? 0} of ${o.task} kept exiting before it became healthy (last: ${exitWords(run)}) and is no longer restarted.`)
  } else if (o.event === 'service.recovered') {
    parts.push(`${o.task} is running again${o.instances ? ` (${o.instances.healthy}/${o.instances.total} instances healthy)` : ''}.`)
  } else if (o.event === 'notify.delivery_failed' && o.failed) {
    parts.push(`"${o.failed.title}" was given up after ${o.failed.attempts} attempt${o.failed.attempts === 1 ? '' : 's'}: ${o.failed.error}.`)
  } else if (run) {
    const who = run.kind === 'service' ? `Instance ${run.instance_index ?? 0} of ${o.task} (run ${run.id})` : `Run ${run.id} of ${o.task}`
    const how = o.event === 'run.recovered' ? 'succeeded after an earlier failure' : o.event === 'run.missed' ? `was not run: ${run.message ?? 'the daemon was down'}` : `ended ${run.end_reason}: ${run.message ?? exitWords(run)}`
    parts.push(`${who} ${how}.`)
    if (run.kind === 'task' && o.attempts && o.attempts > 1) parts.push(`Attempt ${run.retry_attempt + 1} of ${o.attempts}.`)
  }
  if (batch.count > 1) parts.push(`This happened ${batch.count} times between ${iso(batch.first)} and ${iso(batch.last)}; the details are those of the last one.`)
  return parts.join(' ')
}

function actionOf(o: Occurrence): string {
  const id = o.run?.id
  switch (o.event) {
    case 'run.failed':
      return `Read its log: sched logs ${id}`
    case 'run.timeout':
      return `Read its log (sched logs ${id}); raise timeout if the work needs longer.`
    case 'run.crashed':
      return `Find out why the daemon stopped; the run was not repeated (sched trigger ${o.task} runs it now).`
    case 'run.missed':
      return `Find out why the daemon was down; sched runs ${o.task} shows what catch-up ran.`
    case 'service.fatal':
      return `Read its log (sched logs ${id}), fix the cause, then: sched start ${o.task}`
    case 'notify.delivery_failed':
      return `Check the notifier's settings and reachability: sched notify test ${o.failed?.notifier ?? 'ID'}`
    case 'disk.full':
      return 'Free space on the state directory\'s disk, or lower max_storage.'
    default:
      return 'Nothing to do.'
  }
}

function exitWords(run: NonNullable<Occurrence['run']>): string {
  if (run.signal) return `killed by ${run.signal}`
  if (run.exit_code !== null) return `exit code ${run.exit_code}`
  return run.end_reason ?? 'ended'
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
