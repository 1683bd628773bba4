import {type CronSpec, type EverySpec, parseSchedule} from '../../src/cron/expression.js'
import {CronSchedule, EverySchedule} from '../../src/cron/schedule.js'

/** Time helpers and schedule builders shared by the scheduling tests. */
export const S = 1000
export const M = 60 * S
export const H = 60 * M
export const at = (iso: string): number => Date.parse(iso)
export const fmt = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z')

export function cron(expr: string, zone = 'UTC'): CronSchedule {
  const spec = parseSchedule(expr)
  if (spec.type !== 'cron') throw new Error(`${expr} is not a cron expression`)
  return new CronSchedule(spec as CronSpec, zone)
}

export function every(expr: string, anchor: number): EverySchedule {
  const spec = parseSchedule(expr)
  if (spec.type !== 'every') throw new Error(`${expr} is not @every`)
  return new EverySchedule(spec as EverySpec, anchor)
}
