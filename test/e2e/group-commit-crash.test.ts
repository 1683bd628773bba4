import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {StateLayout} from '../../src/state/layout.js'
import {RunStore} from '../../src/state/runs.js'
import {startDaemon, tempDir} from '../support/cli.js'
import {until} from '../support/sandbox.js'

/**
 * Group commit must not weaken the promise (engine v2): a trigger the daemon acknowledged (201)
 * has its record after a kill -9 in the middle of a burst, and no run is executed twice.
 */
describe('kill -9 during a burst of triggers', () => {
  it('every acknowledged run has its record after the restart, and none ran twice', async () => {
    const dir = tempDir()
    const state = join(dir.path, 'state')
    const config = join(dir.path, 'sched.toml')
    const ran = join(dir.path, 'ran.txt')
    writeFileSync(config, `[tasks.t]\nrun = 'echo "$SCHED_RUN_ID" >> ${ran}'\nmax_concurrent = 8\nqueue_max = 10000\n`)
    writeFileSync(ran, '')
    const acknowledged = new Set<string>()
    for (let round = 0; round < 3; round++) {
      const daemon = await startDaemon(config, state)
      const post = async () => {
        try {
          const res = await fetch(`${daemon.url}/api/tasks/t/run`, {method: 'POST', headers: {authorization: `Bearer ${daemon.token}`}})
          if (res.status === 201) acknowledged.add(((await res.json()) as {id: string}).id)
        } catch {
          // the daemon was killed with the request in flight: not acknowledged
        }
      }
      const burst = Array.from({length: 150}, post)
      const before = acknowledged.size
      await until(() => acknowledged.size >= before + 40 + round * 20, 20_000, 'acknowledged triggers')
      daemon.child.kill('SIGKILL')
      await Promise.all(burst)
      await daemon.stop()
    }
    // A last daemon finishes what was queued and marks what was running crashed.
    const daemon = await startDaemon(config, state)
    const store = new RunStore(new StateLayout(state))
    await until(() => store.listAll().every((e) => e.state !== 'active'), 30_000, 'queued runs to finish')
    expect(await daemon.stop()).toBe(0)

    const recorded = new Map(store.listAll().map((e) => [e.id, e.state]))
    const missing = [...acknowledged].filter((id) => !recorded.has(id))
    expect(missing).toEqual([])
    const executions = readFileSync(ran, 'utf8').split('\n').filter(Boolean)
    expect(executions.length).toBe(new Set(executions).size)
    // Every execution belongs to a recorded run: nothing ran without its record.
    for (const id of executions) expect(recorded.has(id), id).toBe(true)
    dir.cleanup()
  }, 120_000)
})
