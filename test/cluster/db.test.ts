import {afterEach, describe, expect, it} from 'vitest'
import {ClusterUnavailable, isConnectionError, reconnectDelayMs} from '../../src/cluster/db.js'
import {FakeClock} from '../support/fake-clock.js'
import {MemoryLogger, closeDbs, clusterDb} from '../support/cluster.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {until} from '../support/sandbox.js'
import {TcpProxy} from '../support/tcp-proxy.js'

afterEach(closeDbs)

describe('reconnectDelayMs', () => {
  it.each([
    [0, 250],
    [1, 500],
    [2, 1000],
    [4, 4000],
    [5, 5000],
    [50, 5000],
  ])('attempt %i → %i ms', (attempt, ms) => {
    expect(reconnectDelayMs(attempt)).toBe(ms)
  })
})

describe('isConnectionError', () => {
  it.each<[string, unknown, boolean]>([
    ['refused', Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}), true],
    ['reset', Object.assign(new Error('read ECONNRESET'), {code: 'ECONNRESET'}), true],
    ['SQLSTATE 08006', Object.assign(new Error('connection failure'), {code: '08006'}), true],
    ['admin shutdown', Object.assign(new Error('terminating connection'), {code: '57P01'}), true],
    ['pg: terminated', new Error('Connection terminated unexpectedly'), true],
    ['pg: read timeout', new Error('Query read timeout'), true],
    ['syntax error', Object.assign(new Error('syntax error at or near'), {code: '42601'}), false],
    ['unique violation', Object.assign(new Error('duplicate key'), {code: '23505'}), false],
    ['not an error', 'x', false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isConnectionError(error)).toBe(expected)
  })
})

describePg('ClusterDb: health when PostgreSQL goes away and comes back', () => {
  it('logs once when it goes down, fails fast meanwhile, retries with backoff on the clock, logs once when back', async () => {
    const target = new URL(await freshDatabase())
    const proxy = await TcpProxy.start(target.hostname, Number(target.port))
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'))
    const logger = new MemoryLogger()
    const db = clusterDb(proxy.via(target.toString()), {clock, logger, timeoutMs: 2000})
    let ups = 0
    db.onUp(() => ups++)
    try {
      expect((await db.query<{n: number}>('SELECT 1 AS n')).rows).toEqual([{n: 1}])
      expect(db.healthy).toBe(true)

      await proxy.cut()
      await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(ClusterUnavailable)
      expect(db.healthy).toBe(false)
      // Down: calls fail at once, without a round trip, and say so only once in the log.
      await expect(db.query('SELECT 1')).rejects.toThrow(/is unreachable/)
      await expect(db.transaction(async (sql) => sql.query('SELECT 1'))).rejects.toBeInstanceOf(ClusterUnavailable)
      expect(logger.events()).toEqual(['cluster database unreachable'])

      // Probes at 250 ms, then 500 ms…: each fails while the proxy is cut.
      expect(clock.nextDue()).toBe(clock.now() + 250)
      clock.advance(250)
      await until(() => clock.pending() === 1 && clock.nextDue() === clock.now() + 500, 5000, 'the second probe to be armed')
      expect(db.healthy).toBe(false)

      await proxy.restore()
      clock.advance(500)
      await until(() => db.healthy, 5000, 'the probe to find the database')
      expect(ups).toBe(1)
      expect(logger.events()).toEqual(['cluster database unreachable', 'cluster database reachable again'])
      expect((await db.query<{n: number}>('SELECT 2 AS n')).rows).toEqual([{n: 2}])
    } finally {
      await proxy.close()
    }
  })

  it('never prints the password: not in errors, not in the log', async () => {
    const url = new URL(await freshDatabase())
    url.port = '1' // nothing listens there
    const logger = new MemoryLogger()
    const db = clusterDb(url.toString(), {logger, clock: new FakeClock(0)})
    const error = await db.query('SELECT 1').catch((e: Error) => e)
    expect(error).toBeInstanceOf(ClusterUnavailable)
    const password = decodeURIComponent(url.password)
    expect(password.length).toBeGreaterThan(3)
    expect((error as Error).message).toContain(':***@')
    expect((error as Error).message).not.toContain(password)
    expect(JSON.stringify(logger.entries)).not.toContain(password)
  })

  it('a statement error is the caller\'s, not an outage', async () => {
    const logger = new MemoryLogger()
    const db = clusterDb(await freshDatabase(), {logger})
    await expect(db.query('SELECT no_such_column FROM pg_class')).rejects.toThrow(/no_such_column/)
    expect(db.healthy).toBe(true)
    expect(logger.entries).toEqual([])
  })
})
