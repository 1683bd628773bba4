import {SchedError} from '../core/errors.js'
import type {ClusterDb, Sql} from './db.js'
import {MIGRATIONS} from './migrations/all.js'
import type {Migration} from './migrations/migration.js'

/** Every table lives in this PostgreSQL schema, so sched can share a database with an application. */
export const SCHEMA = 'sched'

/** pg_advisory_xact_lock key taken while migrating (any constant unlikely to be used by others: "sched" in ASCII). */
const MIGRATION_LOCK = 0x7363686564

export interface MigrationResult {
  readonly from: number
  readonly to: number
}

/**
 * Brings the schema to the newest version this sched knows, in one transaction under an advisory
 * lock: nodes starting together wait for each other, the first applies every missing migration,
 * the others find nothing to do. A database migrated by a newer sched is refused, never
 * downgraded.
 */
export async function migrate(db: ClusterDb, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const latest = migrations.at(-1)?.version ?? 0
  return db.transaction(async (sql) => {
    await sql.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await sql.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
    await sql.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const from = await currentVersion(sql)
    if (from > latest) throw newerSchema(from, latest)
    for (const m of migrations) {
      if (m.version <= from) continue
      await sql.query(m.sql)
      await sql.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name])
    }
    return {from, to: Math.max(from, latest)}
  })
}

/** The schema's version; 0 when no node has created it yet. Reads only (for `sched cluster status`). */
export async function schemaVersion(sql: Sql): Promise<number> {
  const {rows} = await sql.query<{exists: boolean}>(`SELECT to_regclass('${SCHEMA}.schema_migrations') IS NOT NULL AS exists`)
  return rows[0].exists ? currentVersion(sql) : 0
}

/** Refuses a schema this sched does not know (written by a newer one). */
export function checkSchemaVersion(version: number, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.at(-1)?.version ?? 0
  if (version > latest) throw newerSchema(version, latest)
}

async function currentVersion(sql: Sql): Promise<number> {
  const {rows} = await sql.query<{v: number | null}>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_migrations`)
  return rows[0].v ?? 0
}

function newerSchema(found: number, latest: number): SchedError {
  return new SchedError(`the cluster database has schema version ${found}, newer than this sched knows (${latest})`, {
    hint: 'upgrade sched on this node to the version the other nodes run',
  })
}
