import {afterEach, expect, it} from 'vitest'
import {migrate, schemaVersion} from '../../src/cluster/schema.js'
import type {Migration} from '../../src/cluster/migrations/migration.js'
import {MIGRATIONS} from '../../src/cluster/migrations/all.js'
import {closeDbs, clusterDb} from '../support/cluster.js'
import {describePg, freshDatabase} from '../support/postgres.js'

afterEach(closeDbs)

const LATEST = MIGRATIONS.at(-1)!.version

describePg('cluster schema migrations', () => {
  it('a new database is migrated to the newest version; a second run has nothing to do', async () => {
    const db = clusterDb(await freshDatabase())
    expect(await schemaVersion(db)).toBe(0)
    expect(await migrate(db)).toEqual({from: 0, to: LATEST})
    expect(await schemaVersion(db)).toBe(LATEST)
    expect(await migrate(db)).toEqual({from: LATEST, to: LATEST})
  })

  it('eight nodes starting at once: every one succeeds, each migration is applied exactly once', async () => {
    const url = await freshDatabase()
    const results = await Promise.all(Array.from({length: 8}, () => migrate(clusterDb(url, {poolSize: 1}))))
    expect(results.filter((r) => r.from === 0)).toHaveLength(1)
    expect(results.filter((r) => r.from === LATEST)).toHaveLength(7)
    const {rows} = await clusterDb(url).query<{version: number}>('SELECT version FROM sched.schema_migrations ORDER BY version')
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('migrations apply in one transaction: a failing step leaves the database as it was', async () => {
    const db = clusterDb(await freshDatabase())
    const broken: Migration[] = [...MIGRATIONS, {version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE sched.x (a int); SELECT no_such_function()'}]
    await expect(migrate(db, broken)).rejects.toThrow(/no_such_function/)
    expect(await schemaVersion(db)).toBe(0)
    const {rows} = await db.query(`SELECT to_regclass('sched.nodes') AS t`)
    expect(rows[0].t).toBeNull()
  })

  it('a schema from a newer sched is refused, not downgraded', async () => {
    const db = clusterDb(await freshDatabase())
    await migrate(db, [...MIGRATIONS, {version: LATEST + 1, name: 'future', sql: 'CREATE TABLE sched.future (a int)'}])
    await expect(migrate(db)).rejects.toThrow(`the cluster database has schema version ${LATEST + 1}, newer than this sched knows (${LATEST})`)
  })
})
