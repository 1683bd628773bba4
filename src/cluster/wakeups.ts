import pg from 'pg'
import type {Clock, TimerHandle} from '../core/clock.js'
import {reconnectDelayMs} from './db.js'

export interface WakeupHandlers {
  /** Runs of `task` may be claimable (queued, or a slot freed); undefined = look at every task. */
  work(task: string | undefined): void
  /** Another node asked this node to stop some of its runs: read pendingStops(). */
  stops(): void
}

export interface WakeupOptions {
  readonly url: string
  readonly clock: Clock
  readonly node: string
  /** The slow poll that covers a lost notification or a dropped LISTEN connection. */
  readonly pollMs: number
  readonly handlers: WakeupHandlers
}

/**
 * What wakes a node for cluster work: LISTEN on `sched_work` (payload: a task) and `sched_stop`
 * (payload: a node) on a connection of its own, plus a slow poll on the injected clock. A
 * notification is only a hint — the database rows are the truth — so a dropped connection costs
 * at most one poll interval; on reconnecting the node looks at everything at once.
 */
export class Wakeups {
  private client?: pg.Client
  private poll?: TimerHandle
  private retry?: TimerHandle
  private attempt = 0
  private closed = false

  constructor(private readonly options: WakeupOptions) {}

  get listening(): boolean {
    return this.client !== undefined
  }

  /** Resolves once listening, or once the first attempt failed (it keeps trying). */
  async start(): Promise<void> {
    this.armPoll()
    await this.connect()
  }

  async close(): Promise<void> {
    this.closed = true
    this.poll?.cancel()
    this.retry?.cancel()
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => undefined)
  }

  private armPoll(): void {
    this.poll = this.options.clock.setTimer(this.options.pollMs, () => {
      if (this.closed) return
      this.everything()
      this.armPoll()
    })
  }

  private everything(): void {
    this.options.handlers.work(undefined)
    this.options.handlers.stops()
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({connectionString: this.options.url, keepAlive: true, application_name: 'sched-wakeups'})
    const lost = () => {
      if (this.client !== client) return
      this.client = undefined
      void client.end().catch(() => undefined)
      this.reconnectLater()
    }
    client.on('error', lost)
    client.on('end', lost)
    client.on('notification', (n) => {
      if (n.channel === 'sched_work') this.options.handlers.work(n.payload || undefined)
      else if (n.channel === 'sched_stop' && n.payload === this.options.node) this.options.handlers.stops()
    })
    try {
      await client.connect()
      await client.query('LISTEN sched_work; LISTEN sched_stop')
    } catch {
      client.removeAllListeners('end')
      await client.end().catch(() => undefined)
      this.reconnectLater()
      return
    }
    if (this.closed) {
      await client.end().catch(() => undefined)
      return
    }
    this.client = client
    // Whatever was notified while we were not listening is found by looking at everything.
    if (this.attempt > 0) this.everything()
    this.attempt = 0
  }

  private reconnectLater(): void {
    if (this.closed) return
    this.retry = this.options.clock.setTimer(reconnectDelayMs(this.attempt++), () => void this.connect())
  }
}
