import type {Clock, TimerHandle} from '../core/clock.js'
import type {Logger} from '../core/logger.js'
import type {NotificationRecord, NotifierConfig} from '../core/notify.js'
import type {Notice} from './notice.js'
import {type OutboxEntry, recordOf} from './outbox.js'
import {nextSlot} from './rate-limit.js'
import {nextStep} from './retry.js'
import type {SendResult} from './senders/result.js'

export interface DeliveryDeps {
  readonly clock: Clock
  readonly logger: Logger
  /** The notifier as the current config defines it; undefined once a reload removed it. */
  notifier(id: string): NotifierConfig | undefined
  send(notice: Notice, notifier: NotifierConfig): Promise<SendResult>
  /** Persists a pending message after an attempt (the outbox). */
  save(entry: OutboxEntry): Promise<void>
  /** A message is settled, sent or given up: record it and tell whoever cares. */
  settled(record: NotificationRecord, entry: OutboxEntry): Promise<void>
  /** A pending message's record changed (an attempt failed and it waits for the next). */
  changed(record: NotificationRecord): void
}

/** One notifier's queue: messages in order, one attempt at a time. */
interface Lane {
  readonly queue: OutboxEntry[]
  busy: boolean
  timer?: TimerHandle
  /** Until when the remote asked us to wait (429 Retry-After). */
  pausedUntil: number
  /** Times of recent attempts, for the rate limit. */
  readonly sent: number[]
}

/**
 * Sends what the outbox holds (SPEC §14): per notifier, in order, one attempt at a time, within
 * its rate limit; a failed attempt is retried with backoff (and whatever wait a 429 asks for, which
 * holds the whole notifier) until the message's deadline, then given up. Everything waits on the
 * injected clock and runs beside the scheduler: nothing here is awaited by the engine.
 */
export class Delivery {
  private readonly lanes = new Map<string, Lane>()
  private readonly inFlight = new Set<Promise<void>>()
  private stopped = false

  constructor(private readonly deps: DeliveryDeps) {}

  /** A message already on disk joins its notifier's queue. */
  enqueue(entry: OutboxEntry): void {
    const lane = this.lane(entry.notice.notifier)
    lane.queue.push(entry)
    this.pump(lane)
  }

  /** Messages still waiting, oldest first within each notifier. */
  pending(): OutboxEntry[] {
    return [...this.lanes.values()].flatMap((l) => l.queue)
  }

  /** No new attempts; waits up to `graceMs` for those under way (an answer not heard is sent again after a restart). */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true
    for (const lane of this.lanes.values()) lane.timer?.cancel()
    if (this.inFlight.size === 0) return
    let timer: TimerHandle | undefined
    await Promise.race([Promise.all(this.inFlight), new Promise<void>((resolve) => (timer = this.deps.clock.setTimer(graceMs, resolve)))])
    timer?.cancel()
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id)
    if (!lane) {
      lane = {queue: [], busy: false, pausedUntil: 0, sent: []}
      this.lanes.set(id, lane)
    }
    return lane
  }

  private pump(lane: Lane): void {
    if (this.stopped || lane.busy || lane.timer) return
    const head = lane.queue[0]
    if (!head) return
    const now = this.deps.clock.now()
    const notifier = this.deps.notifier(head.notice.notifier)
    const slot = notifier ? nextSlot(lane.sent, now, notifier.rate_limit) : now
    const at = Math.max(Date.parse(head.next_attempt_at), lane.pausedUntil, slot)
    if (at > now) {
      lane.timer = this.deps.clock.setTimer(at - now, () => {
        lane.timer = undefined
        this.pump(lane)
      })
      return
    }
    lane.busy = true
    const attempt = this.attempt(lane, head, notifier).finally(() => {
      this.inFlight.delete(attempt)
      lane.busy = false
      this.pump(lane)
    })
    this.inFlight.add(attempt)
  }

  private async attempt(lane: Lane, entry: OutboxEntry, notifier: NotifierConfig | undefined): Promise<void> {
    const {clock, logger} = this.deps
    const notice = entry.notice
    let result: SendResult
    if (notifier) {
      lane.sent.push(clock.now())
      result = await this.deps.send(notice, notifier)
    } else {
      result = {ok: false, response: '', permanent: true, error: `notifier "${notice.notifier}" is no longer in the config`}
    }
    const now = clock.now()
    const attempts = entry.attempts + 1
    const step = nextStep(result, attempts, now, Date.parse(entry.deadline_at))
    const answer = result.status === undefined ? null : `${result.status}${result.response ? ` ${result.response}` : ''}`
    if (result.retryAfterMs !== undefined) lane.pausedUntil = Math.max(lane.pausedUntil, now + result.retryAfterMs)
    if (step.action === 'retry') {
      const next: OutboxEntry = {...entry, attempts, last_error: result.error ?? null, last_response: answer, next_attempt_at: new Date(step.at).toISOString()}
      lane.queue[0] = next
      logger.warn('notify.retry', {notifier: notice.notifier, notification: notice.id, attempts, error: result.error, next_attempt_at: next.next_attempt_at})
      this.deps.changed(recordOf(next, 'pending', null))
      await this.deps.save(next).catch((error: unknown) => logger.error('notify.write_failed', {notification: notice.id, error: (error as Error).message}))
      return
    }
    lane.queue.shift()
    const ok = step.action === 'done'
    const last: OutboxEntry = {...entry, attempts, last_error: ok ? null : step.reason, last_response: answer}
    if (ok) logger.info('notify.sent', {notifier: notice.notifier, notification: notice.id, event: notice.event, task: notice.task ?? undefined, attempts})
    else logger.error('notify.delivery_failed', {notifier: notice.notifier, notification: notice.id, event: notice.event, task: notice.task ?? undefined, attempts, error: step.reason})
    await this.deps.settled(recordOf(last, ok ? 'sent' : 'failed', new Date(now).toISOString()), last)
  }
}
