import pg from 'pg'
import {redactUrl} from '../config/cluster.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {SchedError, errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import {ClusterUnavailable} from './unavailable.js'

export {ClusterUnavailable}

/** What a query runs on: the pool, or one client inside a transaction. */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

export interface ClusterDbOptions {
  readonly url: string
  readonly clock: Clock
  readonly logger: Logger
  /** A query or a connection taking longer counts as the database being unreachable. */
  readonly timeoutMs?: number
  readonly poolSize?: number
}

/** Reconnection attempts back off from a quarter second to five: a partition that heals is noticed within seconds. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(250 * 2 ** Math.min(attempt, 10), 5000)
}

// Codes of the socket, and SQLSTATE classes, that say "the server is not there" rather than
// "the statement is wrong": 08 connection exception, 57P0x shutdown, 53300 too many connections.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300'])
const NETWORK_MESSAGES = /Connection terminated|connection timeout|Query read timeout|timeout exceeded when trying to connect|Client was closed|Client has encountered a connection error/i

export function isConnectionError(error: unknown): boolean {
  if (error instanceof ClusterUnavailable) return true
  const code = (error as {code?: unknown} | null)?.code
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08'))) return true
  return error instanceof Error && NETWORK_MESSAGES.test(error.message)
}

/** Deadlocks and serialisation failures: the transaction is retried from the start. */
const RETRYABLE = new Set(['40P01', '40001'])
const MAX_TX_ATTEMPTS = 5

/**
 * The node's connection to the cluster database: a small pool, transactions, and health. When a
 * query meets a connection error the database is "down": one log line, every call fails fast with
 * ClusterUnavailable (so a partition never makes each caller wait for a timeout), and one probe
 * at a time retries with backoff on the injected clock; when it answers, one more log line and
 * `healthy` again. `/healthz` reads `healthy`.
 */
export class ClusterDb implements Sql {
  readonly pool: pg.Pool
  readonly shownUrl: string
  private up = true
  private attempt = 0
  private probe?: TimerHandle
  private closed = false
  private readonly upListeners = new Set<() => void>()

  constructor(private readonly options: ClusterDbOptions) {
    const timeout = options.timeoutMs ?? 5000
    this.shownUrl = redactUrl(options.url)
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      application_name: 'sched',
    })
    // An idle client whose server went away errors outside any query: without a listener that
    // would crash the daemon.
    this.pool.on('error', (error) => this.down(error))
  }

  get healthy(): boolean {
    return this.up && !this.closed
  }

  /** Calls `fn` each time the database answers again after being down. */
  onUp(fn: () => void): () => void {
    this.upListeners.add(fn)
    return () => this.upListeners.delete(fn)
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.ready()
    try {
      return await this.pool.query<R>(text, values)
    } catch (error) {
      throw this.translate(error)
    }
  }

  /** Runs `fn` in one transaction (READ COMMITTED); retried from the start after a deadlock. */
  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.ready()
      let client: pg.PoolClient
      try {
        client = await this.pool.connect()
      } catch (error) {
        throw this.translate(error)
      }
      let broken: Error | undefined
      try {
        await client.query('BEGIN')
        const result = await fn(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        if (isConnectionError(error)) broken = error instanceof Error ? error : new Error(String(error))
        else await client.query('ROLLBACK').catch(() => undefined)
        const code = (error as {code?: string}).code
        if (!broken && code && RETRYABLE.has(code) && attempt < MAX_TX_ATTEMPTS) continue
        throw this.translate(error)
      } finally {
        // A client whose connection failed is thrown away, not handed to the next caller.
        client.release(broken)
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.probe?.cancel()
    await this.pool.end().catch(() => undefined)
  }

  private ready(): void {
    if (this.closed) throw new ClusterUnavailable('the cluster connection is closed')
    if (!this.up) throw new ClusterUnavailable(`the cluster database ${this.shownUrl} is unreachable`)
  }

  private translate(error: unknown): unknown {
    if (error instanceof ClusterUnavailable) return error
    if (!isConnectionError(error)) return error
    this.down(error)
    return new ClusterUnavailable(`the cluster database ${this.shownUrl} is unreachable: ${errorMessage(error)}`, error)
  }

  private down(error: unknown): void {
    if (this.closed || !this.up) return
    this.up = false
    this.attempt = 0
    this.options.logger.warn('cluster database unreachable', {url: this.shownUrl, error: errorMessage(error)})
    this.scheduleProbe()
  }

  private scheduleProbe(): void {
    this.probe = this.options.clock.setTimer(reconnectDelayMs(this.attempt++), () => void this.tryProbe())
  }

  private async tryProbe(): Promise<void> {
    if (this.closed) return
    try {
      await this.pool.query('SELECT 1')
    } catch {
      if (!this.closed) this.scheduleProbe()
      return
    }
    if (this.closed) return
    this.up = true
    this.options.logger.info('cluster database reachable again', {url: this.shownUrl, attempts: this.attempt})
    for (const fn of this.upListeners) fn()
  }
}

/**
 * One connection for one command (`sched cluster status`): no pool, no retries — a database that
 * cannot be reached is the command's answer, said with the URL's password hidden.
 */
export async function withConnection<T>(url: string, fn: (sql: Sql) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const client = new pg.Client({connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'sched-cli'})
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => undefined)
    throw new SchedError(`cannot reach the cluster database ${redactUrl(url)}: ${errorMessage(error)}`, {
      cause: error,
      hint: 'check [cluster] url (or SCHED_CLUSTER_URL) and that PostgreSQL accepts connections from here',
    })
  }
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}
