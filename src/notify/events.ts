import type {NotifyEvent} from '../core/notify.js'
import type {EndReason, Kind} from '../core/types.js'

/**
 * Which engine happenings become which notification kinds (SPEC §14) — a pure decision, kept
 * apart from routing and delivery so that every case is one row of a table test.
 *
 * Tasks: a failed attempt that will be retried says nothing (its retry will speak); the last
 * attempt says `run.failed`/`run.timeout` with "attempt n of m". `run.recovered` is the first
 * success after a reported failure. Services: every unexpected exit of an instance is
 * `run.failed` (the restart that follows does not make it less of a failure, as supervisord's
 * crashmail would say), the run that makes an instance FATAL is `service.fatal`, and the service
 * reaching `running` again after FATAL is `service.recovered`.
 */

/** Whether a task's last reported outcome was a failure: what `run.recovered` needs to know. */
export type Streak = 'ok' | 'failing'

export interface RunFacts {
  readonly kind: Kind
  readonly end_reason: EndReason | null
  /** 0 for the first attempt. */
  readonly retry_attempt: number
}

/** The parts of a unit's definition the decision reads; undefined when a reload removed the unit. */
export interface UnitFacts {
  readonly retry_attempts: number
}

export interface RunVerdict {
  readonly event?: NotifyEvent
  /** The task's streak after this run; undefined = unchanged. */
  readonly streak?: Streak
}

const RETRIED: ReadonlySet<EndReason> = new Set(['failed', 'timeout', 'log_overflow'])

export function classifyRun(run: RunFacts, unit: UnitFacts | undefined, prior: Streak | undefined): RunVerdict {
  const reason = run.end_reason
  if (run.kind === 'service') {
    switch (reason) {
      case 'start_failed':
        return {event: 'service.fatal'}
      case 'failed':
      case 'log_overflow':
        return {event: 'run.failed'}
      case 'timeout':
        return {event: 'run.timeout'}
      case 'crashed':
        return {event: 'run.crashed'}
      default:
        return {}
    }
  }
  switch (reason) {
    case 'success':
      return prior === 'failing' ? {event: 'run.recovered', streak: 'ok'} : {streak: 'ok'}
    case 'failed':
    case 'log_overflow':
    case 'timeout': {
      if (RETRIED.has(reason) && unit && run.retry_attempt < unit.retry_attempts) return {}
      return {event: reason === 'timeout' ? 'run.timeout' : 'run.failed', streak: 'failing'}
    }
    case 'crashed':
      return {event: 'run.crashed', streak: 'failing'}
    case 'missed':
      // Ticks the daemon was not there for: reported, but nothing ran, so no streak changes.
      return {event: 'run.missed'}
    default:
      // stopped, daemon_stopped, skipped, queue_full, dst_skipped: a decision, not a failure.
      return {}
  }
}

export interface ServiceVerdict {
  readonly event?: NotifyEvent
  /** Whether the service is (still) in the FATAL episode after this state. */
  readonly fatal: boolean
}

/** A service's state change: FATAL starts an episode, `running` ends it with service.recovered. */
export function classifyService(wasFatal: boolean, status: string): ServiceVerdict {
  if (status === 'fatal') return {fatal: true}
  if (status === 'running' && wasFatal) return {event: 'service.recovered', fatal: false}
  return {fatal: wasFatal}
}
