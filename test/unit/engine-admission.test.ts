import {describe, expect, it} from 'vitest'
import type {OnOverlap} from '../../src/core/types.js'
import {admit, type Admission, type Occupancy} from '../../src/engine/admission.js'

const unit = (on_overlap: OnOverlap, max_concurrent: number, queue_max = 3) => ({on_overlap, max_concurrent, queue_max})
const occ = (active: number, queued: number, stoppable: string[] = []): Occupancy => ({active, queued, stoppable})

const START: Admission = {action: 'start'}
const QUEUE: Admission = {action: 'queue'}
const full = (queued: number, max: number): Admission => ({action: 'queue_full', message: `queue full (${queued} waiting, queue_max = ${max})`})

describe('admit(): below max_concurrent with an empty queue, every policy starts (SPEC §4.5)', () => {
  const rows: [OnOverlap, number, Occupancy][] = []
  for (const policy of ['queue', 'skip', 'terminate'] as const) {
    rows.push([policy, 1, occ(0, 0)], [policy, 2, occ(0, 0)], [policy, 2, occ(1, 0, ['r1'])])
  }
  it.each(rows)('%s, max_concurrent %i, %o → start', (policy, max, o) => {
    expect(admit(unit(policy, max), o)).toEqual(START)
  })
})

describe('admit(): queue', () => {
  it.each([
    ['max 1: at the limit → queue', unit('queue', 1), occ(1, 0, ['r1']), QUEUE],
    ['max 2: at the limit → queue', unit('queue', 2), occ(2, 0, ['r1', 'r2']), QUEUE],
    ['max 2: a free slot but runs already waiting → queue behind them (FIFO)', unit('queue', 2), occ(1, 1, ['r1']), QUEUE],
    ['max 1: a free slot but runs already waiting → queue', unit('queue', 1), occ(0, 2), QUEUE],
    ['one below queue_max → queue', unit('queue', 1, 3), occ(1, 2, ['r1']), QUEUE],
    ['queue_max waiting → queue_full', unit('queue', 1, 3), occ(1, 3, ['r1']), full(3, 3)],
    ['max 2, queue_max waiting → queue_full', unit('queue', 2, 100), occ(2, 100, ['r1', 'r2']), full(100, 100)],
    ['queue_max 1, one waiting → queue_full', unit('queue', 1, 1), occ(1, 1, ['r1']), full(1, 1)],
    ['more than queue_max waiting (queue_max lowered by a reload) → queue_full', unit('queue', 1, 2), occ(1, 5, ['r1']), full(5, 2)],
  ] as const)('%s', (_name, u, o, expected) => {
    expect(admit(u, o)).toEqual(expected)
  })

  it('the queue_full message reads as the SPEC example', () => {
    expect(admit(unit('queue', 1, 100), occ(1, 100))).toEqual({action: 'queue_full', message: 'queue full (100 waiting, queue_max = 100)'})
  })
})

describe('admit(): skip', () => {
  it.each([
    ['max 1', unit('skip', 1), occ(1, 0, ['r1']), '1 run already active (max_concurrent = 1, on_overlap = "skip")'],
    ['max 2', unit('skip', 2), occ(2, 0, ['r1', 'r2']), '2 runs already active (max_concurrent = 2, on_overlap = "skip")'],
    ['max 2, both already stopping', unit('skip', 2), occ(2, 0), '2 runs already active (max_concurrent = 2, on_overlap = "skip")'],
  ] as const)('%s: at the limit → skip', (_name, u, o, message) => {
    expect(admit(u, o)).toEqual({action: 'skip', message})
  })
})

describe('admit(): terminate', () => {
  it.each([
    ['max 1: stop the only run', unit('terminate', 1), occ(1, 0, ['r1']), {action: 'terminate', victim: 'r1'}],
    ['max 2: stop the oldest of two', unit('terminate', 2), occ(2, 0, ['r1', 'r2']), {action: 'terminate', victim: 'r1'}],
    ['max 2: the oldest is already stopping for a queued run → stop the next', unit('terminate', 2), occ(2, 1, ['r2']), {action: 'terminate', victim: 'r2'}],
    ['max 1: the only run is already stopping → queue without a victim', unit('terminate', 1), occ(1, 1), {action: 'terminate', victim: undefined}],
    ['max 2: both stopping → queue without a victim', unit('terminate', 2), occ(2, 2), {action: 'terminate', victim: undefined}],
    ['queue_max waiting → queue_full, nothing stopped', unit('terminate', 1, 2), occ(1, 2, ['r1']), full(2, 2)],
    ['max 2, queue_max 1 with one waiting → queue_full', unit('terminate', 2, 1), occ(2, 1, ['r2']), full(1, 1)],
  ] as const)('%s', (_name, u, o, expected) => {
    expect(admit(u, o)).toEqual(expected)
  })
})
