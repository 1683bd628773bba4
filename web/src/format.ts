import {formatBytes} from '../../src/core/bytes.js'
import {NS, formatDuration, formatRelative as relativeToSecond, msToNs} from '../../src/core/duration.js'
import {type EndReason, FAILURE_REASONS} from '../../src/core/types.js'
import type {Run} from './types.js'

export {formatBytes}

/** "in 9h47m", "3d2h ago": relative times to two units, as people say them. */
export function formatRelative(instant: number, now: number): string {
  const delta = instant - now
  const abs = Math.abs(delta)
  const unit = abs >= 86_400_000 ? 3_600_000 : abs >= 3_600_000 ? 60_000 : 1000
  return relativeToSecond(now + Math.sign(delta) * Math.round(abs / unit) * unit, now)
}

export const durationMs = (ms: number): string => formatDuration(msToNs(ms < 1000 ? ms : Math.round(ms / 10) * 10))
export const durationNs = (ns: number): string => formatDuration(ns)
export const NS_PER_MS = NS.ms

/** What each end reason means, in the words of README "Runs". */
export const END_REASON_WORDS: Readonly<Record<EndReason, string>> = {
  success: 'succeeded: exited with a code in exit_codes',
  failed: 'failed: another exit code, a signal sched did not send, or it could not start',
  timeout: 'timed out: its timeout expired and sched stopped it',
  stopped: 'stopped by an operator, by on_overlap = "terminate", by a service stop or reload, or at shutdown',
  daemon_stopped: 'killed at daemon shutdown: still alive when shutdown_timeout ran out',
  crashed: 'crashed: found running after the daemon died; its processes were killed at boot',
  skipped: 'skipped: on_overlap = "skip" at the limit, or its task was removed while it waited; never started',
  queue_full: 'not started: the queue already held queue_max runs',
  dst_skipped: 'not run: the repeated wall-clock time of a DST fall-back day',
  missed: 'missed: ticks came due while the daemon was down',
  log_overflow: 'killed: its log passed log_max_size with log_on_full = "kill_task"',
  start_failed: 'made the service instance FATAL: too many fast failures in a row',
}

export function isFailure(reason: string | null): boolean {
  return reason !== null && (FAILURE_REASONS as readonly string[]).includes(reason)
}

/** A CSS class for a run's outcome: ok, fail, active, or neutral (skipped, stopped…). */
export function outcomeClass(state: string | null): string {
  if (state === null || state === 'active' || state === 'running' || state === 'pending') return 'active'
  if (state === 'success') return 'ok'
  return isFailure(state) ? 'fail' : 'neutral'
}

export function runOutcome(run: Pick<Run, 'status' | 'end_reason'>): string {
  return run.status === 'ended' ? (run.end_reason ?? 'ended') : run.status
}

const zoned = new Map<string, Intl.DateTimeFormat>()

/** "2026-05-01 02:30:00 CEST" in `zone` (the browser's own when none is given). */
export function zonedTime(instant: number, zone?: string): string {
  const key = zone ?? ''
  let f = zoned.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', {timeZone: zone || undefined, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short'})
    zoned.set(key, f)
  }
  return f.format(instant)
}

/** "14:03:07.123" in the browser's zone: per-line log timestamps. */
export function clockTime(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}
