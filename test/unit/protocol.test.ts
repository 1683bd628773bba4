import {describe, expect, it} from 'vitest'
import {REFUSAL_STATUS} from '../../src/api/refusal-status.js'
import {isControlAnswer, isRefusal, isReloadAnswer, isTriggerAnswer} from '../../src/cli/answers.js'
import {REFUSAL_EXIT} from '../../src/cli/refusal-exit.js'
import {REFUSALS, TRIGGER_OUTCOMES, notStarted} from '../../src/engine/outcomes.js'

/**
 * The CLI ↔ daemon protocol (engine v2): refusals and outcomes are defined once, each transport
 * maps every one of them, and the CLI checks an answer's shape instead of casting it.
 */
describe('one mapping per transport', () => {
  it('every refusal has an HTTP status and a CLI exit code (SPEC §9, §11)', () => {
    expect(Object.keys(REFUSAL_STATUS).sort()).toEqual([...REFUSALS].sort())
    expect(Object.keys(REFUSAL_EXIT).sort()).toEqual([...REFUSALS].sort())
    expect(REFUSALS.map((r) => [r, REFUSAL_STATUS[r], REFUSAL_EXIT[r]])).toEqual([
      ['unknown', 404, 3],
      ['forbidden', 403, 1],
      ['params', 400, 2],
      ['service', 409, 1],
      ['conflict', 409, 1],
      ['invalid', 400, 1],
      ['closing', 503, 1],
      ['storage', 507, 1],
      ['unavailable', 503, 1],
    ])
  })

  it('skipped and queue_full are accepted but not started', () => {
    expect(TRIGGER_OUTCOMES.filter(notStarted)).toEqual(['skipped', 'queue_full'])
  })
})

const run = {id: '01JG0000000000000000000010', task_name: 't', status: 'running', triggered_by: 'cli', created_at: '2025-01-01T00:00:00.000Z'}

describe('answers are checked, not cast', () => {
  it.each([
    [{ok: true, outcome: 'started', run}, true],
    [{ok: true, outcome: 'queued', run}, true],
    [{ok: false, refusal: 'params', message: 'x', problems: [{key: 'a', message: 'bad'}]}, true],
    [{ok: true, outcome: 'exploded', run}, false],
    [{ok: true, outcome: 'started'}, false],
    [{ok: true, outcome: 'started', run: {...run, id: 1}}, false],
    [{ok: false, refusal: 'nope', message: 'x'}, false],
    [{ok: false, refusal: 'params', message: 'x', problems: 'bad'}, false],
    [{ok: 'yes'}, false],
    [null, false],
    ['started', false],
  ])('trigger answer %j → %s', (value, valid) => {
    expect(isTriggerAnswer(value)).toBe(valid)
  })

  it('control answers: actions, unit, runs, service state', () => {
    expect(isControlAnswer({ok: true, action: 'stopped', unit: 'web', state: {status: 'stopped', instances: [{index: 0, status: 'stopped'}]}})).toBe(true)
    expect(isControlAnswer({ok: true, action: 'stopped', runs: [run.id]})).toBe(true)
    expect(isControlAnswer({ok: true, action: 'vanished'})).toBe(false)
    expect(isControlAnswer({ok: true, action: 'stopped', runs: [1]})).toBe(false)
    expect(isControlAnswer({ok: true, action: 'stopped', state: {status: 'x'}})).toBe(false)
    expect(isControlAnswer({ok: false, refusal: 'forbidden', message: 'no'})).toBe(true)
  })

  it('reload answers: the three lists, or the errors', () => {
    expect(isReloadAnswer({ok: true, added: ['a'], removed: [], changed: []})).toBe(true)
    expect(isReloadAnswer({ok: true, added: ['a'], removed: []})).toBe(false)
    expect(isReloadAnswer({ok: false, refusal: 'invalid', message: 'x', errors: [{key: 'a', line: 1, column: 1, message: 'bad'}]})).toBe(true)
    expect(isRefusal({ok: false, refusal: 'invalid', message: 'x', errors: [{line: 1}]})).toBe(false)
  })
})
