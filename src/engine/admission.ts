import type {Unit} from '../core/types.js'

export type Admission =
  | {readonly action: 'start'}
  | {readonly action: 'queue'}
  | {readonly action: 'skip'; readonly message: string}
  | {readonly action: 'queue_full'; readonly message: string}
  /** Stop `victim` (the oldest active run not already stopping), start once a slot frees. */
  | {readonly action: 'terminate'; readonly victim?: string}

export interface Occupancy {
  readonly active: number
  readonly queued: number
  /** Active runs not already being stopped, oldest first. */
  readonly stoppable: readonly string[]
}

/**
 * What happens to a new run of a task (SPEC §4.5), the same for every trigger source: below
 * max_concurrent it starts; at the limit `on_overlap` decides. Queued runs wait behind the queue
 * even when a slot is free, so the queue stays first in, first out.
 */
export function admit(unit: Pick<Unit, 'max_concurrent' | 'on_overlap' | 'queue_max'>, o: Occupancy): Admission {
  if (o.active < unit.max_concurrent && o.queued === 0) return {action: 'start'}
  switch (unit.on_overlap) {
    case 'skip':
      return {action: 'skip', message: `${o.active} run${o.active === 1 ? '' : 's'} already active (max_concurrent = ${unit.max_concurrent}, on_overlap = "skip")`}
    case 'terminate':
      if (o.queued >= unit.queue_max) return queueFull(unit, o)
      return {action: 'terminate', victim: o.stoppable[0]}
    case 'queue':
      if (o.queued >= unit.queue_max) return queueFull(unit, o)
      return {action: 'queue'}
  }
}

function queueFull(unit: Pick<Unit, 'queue_max'>, o: Occupancy): Admission {
  return {action: 'queue_full', message: `queue full (${o.queued} waiting, queue_max = ${unit.queue_max})`}
}
