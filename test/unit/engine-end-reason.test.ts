import {describe, expect, it} from 'vitest'
import type {EndReason} from '../../src/core/types.js'
import {endReason, type ExitFacts, type StopCause} from '../../src/engine/end-reason.js'

/**
 * SPEC §3, the rows the end-reason function decides (crashed, skipped, queue_full, dst_skipped
 * and missed are never started, so never reach it). Defaults: exit_codes [0], nothing stopped.
 */
const facts = (f: Partial<ExitFacts>): ExitFacts => ({exitCode: null, signal: null, exitCodes: [0], ...f})

type Row = [string, Partial<ExitFacts>, EndReason]

const STOPPED_BY: StopCause[] = ['operator', 'terminate', 'service', 'reload', 'shutdown']

const table: Row[] = [
  // success / failed by the exit
  ['exit 0', {exitCode: 0}, 'success'],
  ['exit 1', {exitCode: 1}, 'failed'],
  ['exit 255', {exitCode: 255}, 'failed'],
  ['exit 3 with exit_codes [0, 3]', {exitCode: 3, exitCodes: [0, 3]}, 'success'],
  ['exit 0 with exit_codes [0, 3]', {exitCode: 0, exitCodes: [0, 3]}, 'success'],
  ['exit 2 with exit_codes [0, 3]', {exitCode: 2, exitCodes: [0, 3]}, 'failed'],
  ['exit 0 with exit_codes [1] (0 is not success)', {exitCode: 0, exitCodes: [1]}, 'failed'],
  ['exit 1 with exit_codes [1]', {exitCode: 1, exitCodes: [1]}, 'success'],
  // a signal we did not send
  ['SIGKILL we did not send (OOM killer)', {signal: 'SIGKILL'}, 'failed'],
  ['SIGTERM we did not send', {signal: 'SIGTERM'}, 'failed'],
  ['SIGSEGV', {signal: 'SIGSEGV'}, 'failed'],
  ['a signal with an exit code in exit_codes is still a failure', {exitCode: 0, signal: 'SIGTERM'}, 'failed'],
  ['neither code nor signal', {}, 'failed'],
  // could not start
  ['bad working_dir', {startError: 'working_dir /nope does not exist or is not a directory'}, 'failed'],
  ['could not start, with an empty error text, after a stop was asked', {startError: '', stop: 'operator'}, 'failed'],
  // timeout: what sched did explains the exit
  ['timeout, killed by our stop_signal', {stop: 'timeout', signal: 'SIGTERM'}, 'timeout'],
  ['timeout, then SIGKILL after graceful_stop', {stop: 'timeout', signal: 'SIGKILL'}, 'timeout'],
  ['timeout, and the script traps SIGTERM and exits 0', {stop: 'timeout', exitCode: 0}, 'timeout'],
  ['timeout, exit 3 with exit_codes [0, 3]', {stop: 'timeout', exitCode: 3, exitCodes: [0, 3]}, 'timeout'],
  // stopped, for each stop cause
  ...STOPPED_BY.map((stop): Row => [`stopped by ${stop}, killed by our signal`, {stop, signal: 'SIGTERM'}, 'stopped']),
  ...STOPPED_BY.map((stop): Row => [`stopped by ${stop}, exits 1 on SIGTERM`, {stop, exitCode: 1}, 'stopped']),
  ...STOPPED_BY.map((stop): Row => [`stopped by ${stop}, exits 0 on SIGTERM`, {stop, exitCode: 0}, 'stopped']),
  // shutdown: within the budget vs killed when shutdown_timeout ran out
  ['shutdown within its budget', {stop: 'shutdown', signal: 'SIGTERM', shutdownExpired: false}, 'stopped'],
  ['shutdown_timeout ran out, killed', {stop: 'shutdown', signal: 'SIGKILL', shutdownExpired: true}, 'daemon_stopped'],
  ['shutdown_timeout ran out, exited 0 as it was killed', {stop: 'shutdown', exitCode: 0, shutdownExpired: true}, 'daemon_stopped'],
  // log_overflow
  ['log_on_full = kill_task tripped', {stop: 'log_overflow', signal: 'SIGTERM'}, 'log_overflow'],
  ['log_overflow, the script exits 0 on SIGTERM', {stop: 'log_overflow', exitCode: 0}, 'log_overflow'],
  // start_failed
  ['the run that made a service FATAL', {fatal: true, exitCode: 1}, 'start_failed'],
  ['FATAL by a signal', {fatal: true, signal: 'SIGSEGV'}, 'start_failed'],
]

const precedence: Row[] = [
  ['could not start beats a stop cause', {startError: 'no such shell', stop: 'operator'}, 'failed'],
  ['could not start beats shutdown', {startError: 'no such shell', stop: 'shutdown', shutdownExpired: true}, 'failed'],
  ['could not start beats FATAL', {startError: 'no such user', fatal: true}, 'failed'],
  ['a stop beats FATAL', {stop: 'service', fatal: true, signal: 'SIGTERM'}, 'stopped'],
  ['timeout beats FATAL', {stop: 'timeout', fatal: true, signal: 'SIGTERM'}, 'timeout'],
  ['log_overflow beats FATAL', {stop: 'log_overflow', fatal: true, exitCode: 1}, 'log_overflow'],
  // A stop under way when the shutdown budget runs out: the daemon killed it.
  ...(['operator', 'terminate', 'service', 'reload'] as const).map(
    (stop): Row => [`${stop} stop still under way when shutdown_timeout ran out`, {stop, signal: 'SIGKILL', shutdownExpired: true}, 'daemon_stopped'],
  ),
  // A run that had already timed out (or overflowed) stays a failure.
  ['timed out, then killed when shutdown_timeout ran out', {stop: 'timeout', signal: 'SIGKILL', shutdownExpired: true}, 'timeout'],
  ['log_overflow, then killed when shutdown_timeout ran out', {stop: 'log_overflow', signal: 'SIGKILL', shutdownExpired: true}, 'log_overflow'],
]

const named = (rows: Row[]) => rows.map(([name, f, reason]) => ({name, f, reason}))

describe('endReason: every row of SPEC §3 it decides', () => {
  it.each(named(table))('$name → $reason', ({f, reason}) => {
    expect(endReason(facts(f))).toBe(reason)
  })
})

describe('endReason: precedence', () => {
  it.each(named(precedence))('$name → $reason', ({f, reason}) => {
    expect(endReason(facts(f))).toBe(reason)
  })
})
