import {hostname} from 'node:os'
import type {Config} from '../config/load.js'
import type {Clock} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {Logger} from '../core/logger.js'
import {type Refusal, refused} from '../engine/outcomes.js'
import type {NotificationRecord, NotifierConfig} from '../core/notify.js'
import type {Unit} from '../core/types.js'
import {ulid} from '../core/ulid.js'
import {STATE_FORMAT} from '../state/json-file.js'
import type {StateLayout} from '../state/layout.js'
import {readLogPage} from '../logs/reader.js'
import type {RunRecord} from '../state/run-record.js'
import {type Batch, Coalescer} from './coalesce.js'
import {Delivery} from './deliver.js'
import {classifyRun, classifyService} from './events.js'
import {type NotificationPage, type NotificationQuery, NotificationHistory} from './history.js'
import {NotifyMemory} from './memory.js'
import {NotifyMetrics} from './metrics.js'
import {LOG_TAIL_LINES, type Notice, type Occurrence, buildNotice, testNotice} from './notice.js'
import {HISTORY_KEEP, Outbox, type OutboxEntry, recordOf} from './outbox.js'
import {routeEvent} from './routes.js'
import type {SendResult} from './senders/result.js'
import {sendNotice} from './senders/send.js'

/**
 * What notifications need from the engine, and all they need: its event stream (the same one
 * GET /api/events serves), the config it runs, and the next tick of a task. Nothing of how runs
 * are owned or executed leaks in here.
 */
export interface NotifySource {
  onEvent(listener: (event: string, data: unknown) => void): () => void
  readonly currentConfig: Config
  nextRunAt(name: string): number | undefined
}

export interface NotificationsDeps {
  readonly source: NotifySource
  readonly layout: StateLayout
  readonly clock: Clock
  readonly logger: Logger
  /** One delivery attempt; sendNotice unless a test scripts the remote. */
  readonly send?: (notice: Notice, notifier: NotifierConfig) => Promise<SendResult>
}

/** What `sched notify test` reports: the remote's answer to one message. */
export interface TestAnswer {
  readonly notifier: string
  readonly kind: string
  readonly ok: boolean
  readonly status: number | null
  readonly response: string
  readonly error: string | null
  readonly duration_ms: number
}

/** The daemon's answer to `sched notify test`: the remote's answer, or a refusal (no such notifier). */
export type NotifyTestAnswer = {readonly ok: true; readonly result: TestAnswer} | Refusal

/** How long shutdown waits for attempts under way before leaving them to the next boot. */
const STOP_GRACE_MS = 2000

interface Item {
  readonly occurrence: Occurrence
  readonly route: string
  readonly notifier: string
}

/**
 * The notification engine (SPEC §14), beside the daemon: engine events → kinds (events.ts) →
 * notifiers (routes.ts) → coalesce windows (coalesce.ts) → a notice with the log tail, next run
 * and link (notice.ts) → the outbox → delivery. It owns `outbox/`, `notifications/` and
 * `notify.json`; nothing in the engine calls it.
 */
export class Notifications {
  private readonly outbox: Outbox
  private readonly memory: NotifyMemory
  private readonly history = new NotificationHistory(HISTORY_KEEP)
  private readonly metrics = new NotifyMetrics()
  private readonly delivery: Delivery
  private readonly coalescer: Coalescer<Item>
  private readonly host = hostname()
  private unsubscribe?: () => void
  /** Messages are made one after another, so they reach the outbox in the order they happened. */
  private making: Promise<void> = Promise.resolve()
  private units?: {config: Config; byName: Map<string, Unit>}

  constructor(private readonly deps: NotificationsDeps) {
    const {layout, clock, logger} = deps
    this.outbox = new Outbox(layout, (path, problem, movedTo) => logger.error('state.corrupt', {path, problem, moved_to: movedTo}))
    this.memory = new NotifyMemory(layout, (error) => logger.error('state.write_failed', {path: layout.notifyStateFile, error}))
    this.coalescer = new Coalescer(clock, (_key, batch) => this.make(batch))
    const send = deps.send ?? ((notice: Notice, notifier: NotifierConfig) => sendNotice(notice, notifier, clock))
    this.delivery = new Delivery({
      clock,
      logger,
      notifier: (id) => this.config.notify.notifiers.get(id),
      send,
      save: (entry) => this.outbox.put(entry),
      changed: (record) => this.history.upsert(record),
      settled: (record, entry) => this.settled(record, entry),
    })
  }

  private get config(): Config {
    return this.deps.source.currentConfig
  }

  /** Subscribes before the engine boots (crashed and missed runs are told at boot), then resumes the outbox. */
  start(): void {
    const {logger} = this.deps
    this.memory.load((path, problem, movedTo) => logger.error('state.corrupt', {path, problem, moved_to: movedTo}))
    const {pending, history} = this.outbox.load()
    this.history.load(history)
    for (const entry of pending) {
      this.history.upsert(recordOf(entry, 'pending', null))
      this.delivery.enqueue(entry)
    }
    if (pending.length) logger.info('notify.resumed', {notifications: pending.length})
    this.unsubscribe = this.deps.source.onEvent((event, data) => {
      try {
        this.onEngineEvent(event, data)
      } catch (error) {
        logger.error('notify.error', {event, error: (error as Error).message})
      }
    })
  }

  /**
   * Shutdown: what coalesce windows still hold goes to the outbox (delivered now if the grace
   * allows, else after the next boot); attempts under way get a moment to finish.
   */
  async stop(): Promise<void> {
    this.unsubscribe?.()
    this.coalescer.flush()
    await this.making
    await this.delivery.stop(STOP_GRACE_MS)
    await this.memory.flush()
  }

  list(query: NotificationQuery): NotificationPage {
    return this.history.query(query)
  }

  metricsText(): string {
    const pending = new Map<string, number>()
    for (const e of this.delivery.pending()) pending.set(e.notice.notifier, (pending.get(e.notice.notifier) ?? 0) + 1)
    return this.metrics.render(pending)
  }

  /** `sched notify test` through the daemon: the config and environment it sends with. */
  async test(id: string): Promise<NotifyTestAnswer> {
    const result = await testNotifier(this.config, id, this.deps.clock, this.deps.send)
    return result ? {ok: true, result} : refused('unknown', `no notifier "${id}" in the daemon's config`)
  }

  private onEngineEvent(event: string, data: unknown): void {
    if (this.config.notify.routes.length === 0) return
    if (event === 'run.ended') this.onRunEnded(data as Omit<RunRecord, 'v' | 'process_start'>)
    else if (event === 'service.state') this.onServiceState(data as {name: string; status: string; instances: readonly {status: string}[]})
    else if (event === 'disk.full') this.dispatch({event: 'disk.full', at: this.deps.clock.now()})
  }

  private onRunEnded(run: Omit<RunRecord, 'v' | 'process_start'>): void {
    const unit = this.unit(run.task_name)
    const verdict = classifyRun(run, unit, run.kind === 'task' ? this.memory.streak(run.task_name) : undefined)
    if (verdict.streak) this.memory.setStreak(run.task_name, verdict.streak)
    if (!verdict.event) return
    this.dispatch({event: verdict.event, at: this.deps.clock.now(), task: run.task_name, group: unit?.group, run, attempts: unit && run.kind === 'task' ? unit.retry_attempts + 1 : undefined})
  }

  private onServiceState(state: {name: string; status: string; instances: readonly {status: string}[]}): void {
    const verdict = classifyService(this.memory.isFatal(state.name), state.status)
    this.memory.setFatal(state.name, verdict.fatal)
    if (!verdict.event) return
    const healthy = state.instances.filter((i) => i.status === 'running').length
    this.dispatch({event: verdict.event, at: this.deps.clock.now(), task: state.name, group: this.unit(state.name)?.group, instances: {healthy, total: state.instances.length}})
  }

  private dispatch(occurrence: Occurrence, notFor?: string): void {
    const targets = routeEvent(this.config.notify.routes, {event: occurrence.event, task: occurrence.task, group: occurrence.group, notFor})
    for (const {notifier, route} of targets) {
      const key = `${notifier}\u0000${occurrence.event}\u0000${occurrence.task ?? ''}`
      const sent = this.coalescer.offer(key, route.coalesce / NS.ms, {occurrence, route: route.name, notifier})
      if (!sent) this.metrics.count('coalesced', notifier)
    }
  }

  private make(batch: Batch<Item>): void {
    this.making = this.making.then(() => this.enqueue(batch)).catch((error: unknown) => {
      this.deps.logger.error('notify.error', {notifier: batch.item.notifier, event: batch.item.occurrence.event, error: (error as Error).message})
    })
  }

  /** Makes the message (reading the log tail now), writes it to the outbox, hands it to delivery. */
  private async enqueue(batch: Batch<Item>): Promise<void> {
    const {occurrence: o, route, notifier} = batch.item
    const {clock} = this.deps
    const now = clock.now()
    const logTail = o.run ? await this.logTail(o.run.task_name, o.run.id) : []
    const notice = buildNotice(
      {...batch, item: o},
      {
        id: ulid(now),
        route,
        notifier,
        now,
        host: this.host,
        logTail,
        nextRunAt: o.task ? this.deps.source.nextRunAt(o.task) : undefined,
        publicUrl: this.config.daemon.public_url,
      },
    )
    const deadline = this.config.notify.notifiers.get(notifier)?.deadline ?? 0
    const entry: OutboxEntry = {
      v: STATE_FORMAT,
      notice,
      attempts: 0,
      last_error: null,
      last_response: null,
      next_attempt_at: new Date(now).toISOString(),
      deadline_at: new Date(now + deadline / NS.ms).toISOString(),
    }
    await this.outbox.put(entry)
    this.history.upsert(recordOf(entry, 'pending', null))
    this.delivery.enqueue(entry)
  }

  private async logTail(task: string, runId: string): Promise<string[]> {
    try {
      const page = await readLogPage(this.deps.layout.logFile(task, runId), {from: -LOG_TAIL_LINES, limit: LOG_TAIL_LINES})
      return page.lines.map((l) => l.text)
    } catch {
      return []
    }
  }

  private async settled(record: NotificationRecord, entry: OutboxEntry): Promise<void> {
    this.history.upsert(record)
    this.metrics.count(record.status === 'sent' ? 'sent' : 'failed', record.notifier)
    try {
      await this.outbox.settle(record)
    } catch (error) {
      this.deps.logger.error('notify.write_failed', {notification: record.id, error: (error as Error).message})
    }
    const n = entry.notice
    // A lost alert is itself an event, routed like any other — but never to the notifier that
    // lost it, and a lost report of a loss is only logged (no cascade).
    if (record.status === 'failed' && n.event !== 'notify.delivery_failed' && n.event !== 'notify.test') {
      const failed = {notifier: n.notifier, title: n.title, attempts: record.attempts, error: record.last_error ?? 'failed'}
      this.dispatch({event: 'notify.delivery_failed', at: this.deps.clock.now(), task: n.task ?? undefined, group: n.task ? this.unit(n.task)?.group : undefined, failed}, n.notifier)
    }
  }

  private unit(name: string): Unit | undefined {
    const config = this.config
    if (this.units?.config !== config) this.units = {config, byName: new Map(config.units.map((u) => [u.name, u]))}
    return this.units.byName.get(name)
  }
}

/**
 * Sends the test message through one notifier of `config` and reports the remote's answer
 * (undefined: no such notifier). The daemon answers `sched notify test` with it, and so does the
 * CLI when no daemon runs.
 */
export async function testNotifier(config: Config, id: string, clock: Clock, send?: NotificationsDeps['send']): Promise<TestAnswer | undefined> {
  const notifier = config.notify.notifiers.get(id)
  if (!notifier) return undefined
  const started = clock.now()
  const notice = testNotice(id, notifier.kind, {id: ulid(started), now: started, host: hostname()})
  const result = await (send ?? ((n: Notice, c: NotifierConfig) => sendNotice(n, c, clock)))(notice, notifier)
  return {notifier: id, kind: notifier.kind, ok: result.ok, status: result.status ?? null, response: result.response, error: result.error ?? null, duration_ms: Math.max(0, clock.now() - started)}
}
