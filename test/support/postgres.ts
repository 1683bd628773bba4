import {randomBytes} from 'node:crypto'
import pg from 'pg'
import {afterEach, describe} from 'vitest'

/**
 * A real PostgreSQL for the cluster tests: `scripts/test-postgres.sh` starts a throw-away server
 * and sets SCHED_TEST_PG_URL (.ci/run always does). Each test gets a database of its own, dropped
 * after it. Without the URL the tests are skipped, saying why — except under CI, where a missing
 * server is an error, never a silent skip.
 */
export const PG_URL = process.env.SCHED_TEST_PG_URL || undefined

if (!PG_URL && process.env.CI) {
  throw new Error('SCHED_TEST_PG_URL is not set under CI: .ci/run must run the tests through scripts/test-postgres.sh')
}

const SKIP_REASON = 'skipped: no PostgreSQL (run through scripts/test-postgres.sh, e.g. scripts/test-postgres.sh npx vitest run test/cluster)'

/** `describe` for tests that need PostgreSQL: skipped, with the reason in its title, when there is none. */
export function describePg(name: string, body: () => void): void {
  if (PG_URL) describe(name, body)
  else describe.skip(`${name} — ${SKIP_REASON}`, body)
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({connectionString: PG_URL})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

const created: string[] = []

/** A new empty database for this test (dropped after it), as a URL. */
export async function freshDatabase(): Promise<string> {
  if (!PG_URL) throw new Error('freshDatabase() needs SCHED_TEST_PG_URL')
  const name = `t_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  created.push(name)
  return withDatabase(PG_URL, name)
}

afterEach(async () => {
  if (!PG_URL) return
  const names = created.splice(0)
  if (names.length) await admin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
})
