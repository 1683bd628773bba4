import {ClusterDb} from '../../src/cluster/db.js'
import {migrate} from '../../src/cluster/schema.js'
import type {Clock} from '../../src/core/clock.js'
import {systemClock} from '../../src/core/clock.js'
import type {LogFields, Logger, LogLevel} from '../../src/core/logger.js'
import type {EndReason} from '../../src/core/types.js'
import {type RunRecord, newRunRecord} from '../../src/state/run-record.js'
import {freshDatabase} from './postgres.js'
import {TcpProxy} from './tcp-proxy.js'

export interface LogEntry {
  readonly level: LogLevel
  readonly event: string
  readonly fields: LogFields
}

/** A Logger that keeps what it is told, for tests that check what a node says (and how often). */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = []
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.entries.push({level, event, fields})
  }
  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields)
  }
  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields)
  }
  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields)
  }
  events(): string[] {
    return this.entries.map((e) => e.event)
  }
}

const open: ClusterDb[] = []

/** A ClusterDb on `url` (a fresh database unless given); closed by closeDbs(). */
export function clusterDb(url: string, options: {clock?: Clock; logger?: Logger; timeoutMs?: number; poolSize?: number} = {}): ClusterDb {
  const db = new ClusterDb({url, clock: options.clock ?? systemClock, logger: options.logger ?? new MemoryLogger(), timeoutMs: options.timeoutMs ?? 5000, poolSize: options.poolSize})
  open.push(db)
  return db
}

/** A fresh database with the schema applied, and a connection to it. */
export async function migratedDb(options: Parameters<typeof clusterDb>[1] = {}): Promise<{url: string; db: ClusterDb}> {
  const url = await freshDatabase()
  const db = clusterDb(url, options)
  await migrate(db)
  return {url, db}
}

export async function closeDbs(): Promise<void> {
  await Promise.all(open.splice(0).map((db) => db.close()))
}

let seq = 0

/** A pending run record as the engine creates it (ids sort by creation, as ULIDs do). */
export function pendingRun(task: string, overrides: Partial<RunRecord> = {}): RunRecord {
  const n = seq++
  const created = Date.parse('2026-03-01T12:00:00Z') + n
  return newRunRecord({id: `01K${String(n).padStart(23, '0')}`, task_name: task, kind: 'task', triggered_by: 'api', created_at: new Date(created).toISOString(), ...overrides})
}

/** The final record of a run that ends without starting, as the engine writes it. */
export function endUnstarted(record: RunRecord, reason: EndReason, message: string): RunRecord {
  return {...record, status: 'ended', end_reason: reason, ended_at: new Date(Date.parse(record.created_at) + 5).toISOString(), duration_ms: 0, message}
}

export function started(record: RunRecord, pid = 100): RunRecord {
  return {...record, status: 'running', started_at: new Date(Date.parse(record.created_at) + 1).toISOString(), pid}
}

export function ended(record: RunRecord, reason: EndReason = 'success'): RunRecord {
  return {...record, status: 'ended', end_reason: reason, exit_code: reason === 'success' ? 0 : 1, ended_at: new Date(Date.parse(record.created_at) + 10).toISOString(), duration_ms: 9, log_bytes: 12}
}

/** A fresh database reached through a TCP proxy the test can cut (a partition of one node). */
export async function freshUrlWithProxy(): Promise<{url: string; proxy: TcpProxy}> {
  const url = await freshDatabase()
  const target = new URL(url)
  return {url, proxy: await TcpProxy.start(target.hostname, Number(target.port))}
}
