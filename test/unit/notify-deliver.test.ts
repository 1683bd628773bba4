import {setImmediate as tick} from 'node:timers/promises'
import {describe, expect, it} from 'vitest'
import {createLogger} from '../../src/core/logger.js'
import type {NotifierConfig} from '../../src/core/notify.js'
import {Delivery} from '../../src/notify/deliver.js'
import {testNotice} from '../../src/notify/notice.js'
import type {NotificationRecord} from '../../src/core/notify.js'
import type {OutboxEntry} from '../../src/notify/outbox.js'
import type {SendResult} from '../../src/notify/senders/result.js'
import {FakeClock} from '../support/fake-clock.js'

/**
 * Delivery on the fake clock (SPEC §14): order per notifier, retries with backoff, 429
 * Retry-After holding the notifier, the deadline, permanent refusals, the rate limit. The remote
 * is scripted here; the real clients are exercised against real servers in test/e2e/notify*.
 */

const T0 = Date.UTC(2026, 0, 1)
const S = 1e9

function notifier(id: string, over: Partial<NotifierConfig> = {}): NotifierConfig {
  return {
    id,
    kind: 'webhook',
    url: 'http://127.0.0.1:1/',
    token: '',
    secret: '',
    chat_id: '',
    topic: '',
    host: '',
    port: 25,
    tls: 'none',
    user: '',
    password: '',
    from: '',
    to: [],
    rate_limit: 100,
    deadline: 3600 * S,
    timeout: 10 * S,
    secrets: [],
    unresolved: [],
    ...over,
  }
}

function setup(notifiers: NotifierConfig[], answers: (notifier: string, n: number) => SendResult) {
  const clock = new FakeClock(T0)
  const byId = new Map(notifiers.map((n) => [n.id, n]))
  const attempts: string[] = []
  const settled: NotificationRecord[] = []
  const counts = new Map<string, number>()
  const delivery = new Delivery({
    clock,
    logger: createLogger('text', () => {}),
    notifier: (id) => byId.get(id),
    send: async (notice, n) => {
      const k = (counts.get(n.id) ?? 0) + 1
      counts.set(n.id, k)
      attempts.push(`${(clock.now() - T0) / 1000}s ${n.id} ${notice.id}`)
      return answers(n.id, k)
    },
    save: async () => {},
    changed: () => {},
    settled: async (record) => {
      settled.push(record)
    },
  })
  let seq = 0
  const add = (to: string, deadlineMs = 3_600_000) => {
    const id = `m${++seq}`
    const entry: OutboxEntry = {
      v: 1,
      notice: {...testNotice(to, 'webhook', {id, now: clock.now(), host: 'h'}), notifier: to},
      attempts: 0,
      last_error: null,
      last_response: null,
      next_attempt_at: new Date(clock.now()).toISOString(),
      deadline_at: new Date(clock.now() + deadlineMs).toISOString(),
    }
    delivery.enqueue(entry)
    return id
  }
  /** Moves time in steps so the async attempt chain runs between timers. */
  const run = async (ms: number, step = 500) => {
    for (let t = 0; t <= ms; t += step) {
      for (let i = 0; i < 5; i++) await tick()
      if (t < ms) clock.advance(Math.min(step, ms - t))
    }
  }
  return {clock, delivery, attempts, settled, add, run, byId}
}

const ok: SendResult = {ok: true, status: 200, response: 'ok', permanent: false}
const unavailable: SendResult = {ok: false, status: 503, response: '', error: 'HTTP 503 Service Unavailable', permanent: false}

describe('Delivery', () => {
  it('delivers at once', async () => {
    const t = setup([notifier('a')], () => ok)
    t.add('a')
    await t.run(0)
    expect(t.attempts).toEqual(['0s a m1'])
    expect(t.settled.map((r) => [r.id, r.status, r.attempts, r.last_response])).toEqual([['m1', 'sent', 1, '200 ok']])
  })

  it('retries a 5xx with backoff until it is delivered', async () => {
    const t = setup([notifier('a')], (_id, n) => (n < 3 ? unavailable : ok))
    t.add('a')
    await t.run(20_000)
    expect(t.attempts).toEqual(['0s a m1', '5s a m1', '15s a m1'])
    expect(t.settled.map((r) => [r.status, r.attempts, r.last_error])).toEqual([['sent', 3, null]])
  })

  it("a 429 holds the whole notifier for its Retry-After; other notifiers go on; order is kept", async () => {
    const limited: SendResult = {ok: false, status: 429, response: '', error: 'HTTP 429', permanent: false, retryAfterMs: 30_000}
    const t = setup([notifier('a'), notifier('b')], (id, n) => (id === 'a' && n === 1 ? limited : ok))
    t.add('a')
    t.add('a')
    t.add('b')
    await t.run(31_000)
    expect(t.attempts).toEqual(['0s a m1', '0s b m3', '30s a m1', '30s a m2'])
    expect(t.settled.map((r) => `${r.id}:${r.status}:${r.attempts}`)).toEqual(['m3:sent:1', 'm1:sent:2', 'm2:sent:1'])
  })

  it('gives up at the deadline, with a last attempt at it, and says why', async () => {
    const t = setup([notifier('a')], () => unavailable)
    t.add('a', 60_000)
    await t.run(70_000)
    expect(t.attempts).toEqual(['0s a m1', '5s a m1', '15s a m1', '35s a m1', '60s a m1'])
    expect(t.settled.map((r) => [r.status, r.attempts, r.last_error])).toEqual([['failed', 5, 'HTTP 503 Service Unavailable (deadline reached after 5 attempts)']])
  })

  it('a permanent refusal is given up after one attempt', async () => {
    const t = setup([notifier('a')], () => ({ok: false, status: 404, response: 'no_service', error: 'HTTP 404 Not Found: no_service', permanent: true}))
    t.add('a')
    await t.run(10_000)
    expect(t.attempts).toEqual(['0s a m1'])
    expect(t.settled.map((r) => [r.status, r.last_response])).toEqual([['failed', '404 no_service']])
  })

  it('keeps to the rate limit: two a minute', async () => {
    const t = setup([notifier('a', {rate_limit: 2})], () => ok)
    for (let i = 0; i < 5; i++) t.add('a')
    await t.run(125_000, 1000)
    expect(t.attempts.map((a) => a.split(' ')[0])).toEqual(['0s', '0s', '60s', '60s', '120s'])
  })

  it('a notifier removed by a reload fails its messages without sending', async () => {
    const t = setup([notifier('a')], () => ok)
    t.byId.delete('a')
    t.add('a')
    await t.run(0)
    expect(t.attempts).toEqual([])
    expect(t.settled.map((r) => [r.status, r.last_error])).toEqual([['failed', 'notifier "a" is no longer in the config (not retried)']])
  })

  it('after stop no attempt starts', async () => {
    const t = setup([notifier('a')], () => unavailable)
    t.add('a')
    await t.run(0)
    await t.delivery.stop(100)
    await t.run(60_000, 5000)
    expect(t.attempts).toEqual(['0s a m1'])
    expect(t.delivery.pending()).toHaveLength(1)
  })
})
