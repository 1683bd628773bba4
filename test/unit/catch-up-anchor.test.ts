import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {TriggerSource} from '../../src/core/types.js'
import {catchUpAnchor, newestTickRuns} from '../../src/engine/cron-fires.js'
import {StateLayout} from '../../src/state/layout.js'
import {newRunRecord} from '../../src/state/run-record.js'
import {RunStore, runRelativePath} from '../../src/state/runs.js'
import {tempDirsPerTest} from '../support/cli.js'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const T0 = Date.parse('2026-12-04T10:00:00Z')

/** A ULID created at `at` (the store orders runs by it). */
function idAt(at: number, seq: number): string {
  let time = ''
  for (let t = at, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time
  return time + String(seq).padStart(16, '0')
}

const tempDir = tempDirsPerTest()

function store(runs: {created: number; by: TriggerSource; scheduled: number | null}[]): RunStore {
  const layout = new StateLayout(tempDir('sched-anchor-'))
  runs.forEach(({created, by, scheduled}, i) => {
    const record = newRunRecord({
      id: idAt(created, i), task_name: 'tick', kind: 'task', triggered_by: by, status: 'running', pid: 1,
      scheduled_at: scheduled === null ? null : new Date(scheduled).toISOString(), created_at: new Date(created).toISOString(), started_at: new Date(created).toISOString(),
    })
    const path = join(layout.runsDir('tick'), runRelativePath(record))
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(path, JSON.stringify(record))
  })
  return new RunStore(layout)
}

/** As the daemon calls it at boot: from the one listing of every run. */
function anchor(s: RunStore, bookAnchor: number): number {
  return catchUpAnchor(newestTickRuns(s.listAll()).get('tick'), (e) => s.readSync(e), bookAnchor)
}

describe('catchUpAnchor', () => {
  it('takes a tick a run record holds when the unit book had not caught up (a kill between the two writes)', () => {
    const s = store([{created: T0 + 1000, by: 'cron', scheduled: T0 + 1000}])
    expect(anchor(s, T0)).toBe(T0 + 1000)
  })

  it('keeps the book when the newest cron run is older, and looks past manual runs', () => {
    const s = store([
      {created: T0 - 5000, by: 'cron', scheduled: T0 - 5000},
      {created: T0 + 3000, by: 'api', scheduled: null},
    ])
    expect(anchor(s, T0)).toBe(T0)
    const t = store([
      {created: T0 + 2000, by: 'catch_up', scheduled: T0 + 1000},
      {created: T0 + 3000, by: 'api', scheduled: null},
    ])
    expect(anchor(t, T0)).toBe(T0 + 1000)
  })

  it('is the book when the task has no runs', () => {
    expect(anchor(store([]), T0)).toBe(T0)
  })
})
