import {NS} from '../core/duration.js'
import type {Unit} from '../core/types.js'
import {restartDelayMs} from './backoff.js'

/** What a slot remembers between instances. */
export interface SlotCounters {
  /** Consecutive restarts since the slot was last healthy: the backoff's n. */
  readonly restarts: number
  /** Consecutive fast failures: exits before healthy_after that were not clean. */
  readonly fastFailures: number
}

export interface InstanceExit {
  /** How long the instance was up, in ms. */
  readonly livedMs: number
  /** Exited on its own with a code in exit_codes. */
  readonly clean: boolean
  /** Ended because sched stopped it (operator, reload, shutdown). */
  readonly stoppedBySched: boolean
  /** Its end reason counts as a failure (SPEC §3). */
  readonly failure: boolean
}

export type NextStep = {readonly action: 'none'} | {readonly action: 'fatal'} | {readonly action: 'restart'; readonly delayMs: number}

export interface RestartDecision {
  readonly next: NextStep
  readonly counters: SlotCounters
  /** This exit makes the slot FATAL: the run ends start_failed. */
  readonly fatal: boolean
}

export const HEALTHY: SlotCounters = {restarts: 0, fastFailures: 0}

/**
 * A service instance has exited: is it FATAL, restarted (after how long), or left down? A pure
 * function of the unit, the slot's counters and the exit (SPEC §2 restart, restart_delay,
 * restart_backoff, healthy_after, start_retries). `fatal` also decides the run's end reason.
 */
export function afterExit(unit: Pick<Unit, 'restart' | 'restart_delay' | 'restart_backoff' | 'healthy_after' | 'start_retries'>, counters: SlotCounters, exit: InstanceExit): RestartDecision {
  if (exit.stoppedBySched) return {next: {action: 'none'}, counters, fatal: false}
  // An instance that lived healthy_after was healthy even when its exit is seen before the
  // supervisor's health timer fires (same instant, or healthy_after = 0): its backoff starts over.
  const wasHealthy = exit.livedMs >= unit.healthy_after / NS.ms
  const n = wasHealthy ? 0 : counters.restarts
  const fast = !exit.clean && !wasHealthy
  const fastFailures = fast ? counters.fastFailures + 1 : 0
  // FATAL stops a restart loop: an exit that would not be restarted anyway simply ends.
  const restart = unit.restart === 'always' || (unit.restart === 'on_failure' && exit.failure)
  if (!restart) return {next: {action: 'none'}, counters: {restarts: n, fastFailures}, fatal: false}
  if (fast && fastFailures > unit.start_retries) return {next: {action: 'fatal'}, counters: {restarts: n, fastFailures}, fatal: true}
  const delayMs = restartDelayMs(unit.restart_delay / NS.ms, unit.restart_backoff, n)
  return {next: {action: 'restart', delayMs}, counters: {restarts: n + 1, fastFailures}, fatal: false}
}
