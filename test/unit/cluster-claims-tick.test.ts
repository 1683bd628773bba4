import {expect, it} from 'vitest'
import {claimsTick} from '../../src/engine/cluster-admission.js'

const at = '2026-03-01T12:01:00.000Z'

it.each([
  ['a cron tick, first attempt', 'cron', 0, at, true],
  ['a retry of a cron run: its tick is already claimed', 'cron', 1, at, false],
  ['a catch-up run: claimed with the catch-up plan', 'catch_up', 0, at, false],
  ['a manual trigger', 'api', 0, null, false],
  ['a cron-sourced record without a tick', 'cron', 0, null, false],
  ['run_on_start', 'startup', 0, null, false],
] as const)('%s → claims the tick with its admission: %s', (_what, triggered_by, retry_attempt, scheduled_at, claims) => {
  expect(claimsTick({triggered_by, retry_attempt, scheduled_at})).toBe(claims)
})
