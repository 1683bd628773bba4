import {ClusterDb} from '../../src/cluster/db.js'
import {migrate} from '../../src/cluster/schema.js'
import type {Clock} from '../../src/core/clock.js'
import {systemClock} from '../../src/core/clock.js'
import type {LogFields, Logger, LogLevel} from '../../src/core/logger.js'
import {freshDatabase} from './postgres.js'

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
