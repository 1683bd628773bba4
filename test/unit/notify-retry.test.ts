import {describe, expect, it} from 'vitest'
import {nextSlot} from '../../src/notify/rate-limit.js'
import {type AttemptFacts, type NextStep, backoffMs, nextStep} from '../../src/notify/retry.js'
import {retryAfterMs} from '../../src/notify/senders/retry-after.js'

/** The pure parts of delivery: when to retry, the rate limit, and what a 429 asks for. */

const NOW = 1_000_000
const fail = (more: Partial<AttemptFacts> = {}): AttemptFacts => ({ok: false, permanent: false, error: 'HTTP 503', ...more})

describe('backoffMs', () => {
  it.each([
    [1, 5000],
    [2, 10_000],
    [3, 20_000],
    [6, 160_000],
    [7, 300_000],
    [20, 300_000],
  ])('after %i failures: %i ms', (n, ms) => expect(backoffMs(n)).toBe(ms))
})

describe('nextStep', () => {
  it.each<[string, AttemptFacts, number, number, NextStep]>([
    ['delivered', {ok: true, permanent: false}, 1, NOW + 60_000, {action: 'done'}],
    ['a transient failure waits the backoff', fail(), 1, NOW + 3_600_000, {action: 'retry', at: NOW + 5000}],
    ['the backoff grows', fail(), 3, NOW + 3_600_000, {action: 'retry', at: NOW + 20_000}],
    ['a 429 asking for longer than the backoff is honoured', fail({retryAfterMs: 30_000}), 1, NOW + 3_600_000, {action: 'retry', at: NOW + 30_000}],
    ['a 429 asking for less still waits the backoff', fail({retryAfterMs: 1000}), 1, NOW + 3_600_000, {action: 'retry', at: NOW + 5000}],
    ['never past the deadline: one last attempt at it', fail(), 4, NOW + 7000, {action: 'retry', at: NOW + 7000}],
    ['a 429 asking to wait past the deadline gives up', fail({retryAfterMs: 60_000}), 1, NOW + 10_000, {action: 'give_up', reason: 'HTTP 503 (the remote asked to wait 60s, past the deadline)'}],
    ['at the deadline: given up', fail(), 5, NOW, {action: 'give_up', reason: 'HTTP 503 (deadline reached after 5 attempts)'}],
    ['a permanent refusal is not retried', fail({permanent: true, error: 'HTTP 404'}), 1, NOW + 3_600_000, {action: 'give_up', reason: 'HTTP 404 (not retried)'}],
  ])('%s', (_what, result, failures, deadline, expected) => {
    expect(nextStep(result, failures, NOW, deadline)).toEqual(expected)
  })
})

describe('nextSlot (rate limit per minute)', () => {
  it.each<[string, number[], number, number]>([
    ['under the limit: now', [NOW - 10_000], 2, NOW],
    ['at the limit: when the oldest send in the window leaves it', [NOW - 50_000, NOW - 20_000], 2, NOW + 10_000],
    ['sends older than a minute do not count', [NOW - 70_000, NOW - 61_000, NOW - 1000], 2, NOW],
    ['a limit of 1', [NOW - 1000], 1, NOW + 59_000],
  ])('%s', (_what, sent, perMinute, expected) => {
    expect(nextSlot([...sent], NOW, perMinute)).toBe(expected)
  })
})

describe('retryAfterMs', () => {
  it.each<[string, string | null, string, number | undefined]>([
    ['Retry-After in seconds', '7', '', 7000],
    ['Retry-After as an HTTP date', new Date(NOW + 12_000).toUTCString(), '', 12_000],
    ['a date in the past is 0', new Date(NOW - 12_000).toUTCString(), '', 0],
    ["Discord's body", null, '{"message":"You are being rate limited.","retry_after":1.5,"global":false}', 1500],
    ["Telegram's body", null, '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}', 5000],
    ['the header wins over the body', '2', '{"retry_after":9}', 2000],
    ['nothing said', null, 'slow down', undefined],
    ['a header that is neither', 'soon', '', undefined],
  ])('%s', (_what, header, body, expected) => {
    expect(retryAfterMs(header, body, NOW)).toBe(expected)
  })
})
