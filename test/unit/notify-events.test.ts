import {describe, expect, it} from 'vitest'
import type {EndReason, Kind} from '../../src/core/types.js'
import {type RunVerdict, type Streak, classifyRun, classifyService} from '../../src/notify/events.js'

/** Engine happening → notification kind (SPEC §14), one row per case. */

type Row = [what: string, kind: Kind, reason: EndReason, attempt: number, retries: number | undefined, prior: Streak | undefined, expected: RunVerdict]

const ROWS: Row[] = [
  // Tasks: failures reported once nothing will try again.
  ['a failed task without retries', 'task', 'failed', 0, 0, 'ok', {event: 'run.failed', streak: 'failing'}],
  ['a failed first attempt with a retry left says nothing', 'task', 'failed', 0, 2, 'ok', {}],
  ['a failed middle attempt says nothing', 'task', 'failed', 1, 2, 'ok', {}],
  ['the failed last attempt is reported', 'task', 'failed', 2, 2, 'ok', {event: 'run.failed', streak: 'failing'}],
  ['a log overflow is a failure', 'task', 'log_overflow', 0, 0, undefined, {event: 'run.failed', streak: 'failing'}],
  ['a timeout without retries', 'task', 'timeout', 0, 0, 'ok', {event: 'run.timeout', streak: 'failing'}],
  ['a timeout with a retry left says nothing', 'task', 'timeout', 0, 1, 'ok', {}],
  ['the timed-out last attempt', 'task', 'timeout', 1, 1, 'ok', {event: 'run.timeout', streak: 'failing'}],
  ['a removed task (no definition) reports its failure', 'task', 'failed', 0, undefined, 'ok', {event: 'run.failed', streak: 'failing'}],
  ['a crashed run (never retried)', 'task', 'crashed', 0, 3, 'ok', {event: 'run.crashed', streak: 'failing'}],
  ['missed ticks change no streak', 'task', 'missed', 0, 0, 'failing', {event: 'run.missed'}],
  // Recovery: the first success after a reported failure.
  ['a success after a failure recovers', 'task', 'success', 0, 0, 'failing', {event: 'run.recovered', streak: 'ok'}],
  ['a retry that succeeds after failed attempts is no recovery (nothing was reported)', 'task', 'success', 1, 2, 'ok', {streak: 'ok'}],
  ['a success after a success is quiet', 'task', 'success', 0, 0, 'ok', {streak: 'ok'}],
  ['the first success ever is quiet', 'task', 'success', 0, 0, undefined, {streak: 'ok'}],
  // Decisions, not failures.
  ['stopped', 'task', 'stopped', 0, 0, 'failing', {}],
  ['daemon_stopped', 'task', 'daemon_stopped', 0, 0, 'ok', {}],
  ['skipped', 'task', 'skipped', 0, 0, 'ok', {}],
  ['queue_full', 'task', 'queue_full', 0, 0, 'ok', {}],
  ['dst_skipped', 'task', 'dst_skipped', 0, 0, 'ok', {}],
  // Services: each unexpected exit, FATAL, crashes.
  ['a service instance that failed', 'service', 'failed', 0, 0, undefined, {event: 'run.failed'}],
  ['a service instance over its log cap', 'service', 'log_overflow', 0, 0, undefined, {event: 'run.failed'}],
  ['a service instance that timed out', 'service', 'timeout', 0, 0, undefined, {event: 'run.timeout'}],
  ['the run that made a service FATAL', 'service', 'start_failed', 0, 0, undefined, {event: 'service.fatal'}],
  ['a service instance lost with the daemon', 'service', 'crashed', 0, 0, undefined, {event: 'run.crashed'}],
  ['a service instance exiting cleanly', 'service', 'success', 0, 0, undefined, {}],
  ['a service stopped by an operator', 'service', 'stopped', 0, 0, undefined, {}],
]

describe('classifyRun', () => {
  it.each(ROWS)('%s', (_what, kind, reason, attempt, retries, prior, expected) => {
    expect(classifyRun({kind, end_reason: reason, retry_attempt: attempt}, retries === undefined ? undefined : {retry_attempts: retries}, prior)).toEqual(expected)
  })
})

describe('classifyService', () => {
  it.each<[string, boolean, string, ReturnType<typeof classifyService>]>([
    ['FATAL starts an episode', false, 'fatal', {fatal: true}],
    ['FATAL again stays in it', true, 'fatal', {fatal: true}],
    ['starting after FATAL (sched start) is not yet a recovery', true, 'starting', {fatal: true}],
    ['stopped after FATAL keeps the episode open', true, 'stopped', {fatal: true}],
    ['backoff after FATAL keeps it open', true, 'backoff', {fatal: true}],
    ['running after FATAL is service.recovered', true, 'running', {event: 'service.recovered', fatal: false}],
    ['running without FATAL is quiet', false, 'running', {fatal: false}],
    ['backoff without FATAL is quiet', false, 'backoff', {fatal: false}],
  ])('%s', (_what, wasFatal, status, expected) => {
    expect(classifyService(wasFatal, status)).toEqual(expected)
  })
})
