import {type ChildProcess, spawn} from 'node:child_process'
import {afterEach, describe, expect, it} from 'vitest'
import {killRuns, processesOfRuns, runIdOf} from '../../src/engine/runner/process-group.js'

describe('runIdOf', () => {
  it.each([
    ['first entry', 'SCHED_RUN_ID=r1\0PATH=/bin\0', 'r1'],
    ['middle entry', 'PATH=/bin\0SCHED_RUN_ID=r2\0HOME=/\0', 'r2'],
    ['last entry without a trailing NUL', 'PATH=/bin\0SCHED_RUN_ID=r3', 'r3'],
    ['absent', 'PATH=/bin\0HOME=/\0', undefined],
    ['a longer name that ends the same is not it', 'XSCHED_RUN_ID=r4\0PATH=/bin\0', undefined],
    ['the real one after a look-alike', 'XSCHED_RUN_ID=r4\0SCHED_RUN_ID=r5\0', 'r5'],
    ['empty block', '', undefined],
  ])('%s', (_name, environ, expected) => {
    expect(runIdOf(Buffer.from(environ, 'latin1'))).toBe(expected)
  })
})

describe.runIf(process.platform === 'linux')('processesOfRuns / killRuns', () => {
  const children: ChildProcess[] = []
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL')
  })
  const sleeper = (runId: string): ChildProcess => {
    const child = spawn('sleep', ['30'], {env: {PATH: process.env.PATH, SCHED_RUN_ID: runId}, stdio: 'ignore', detached: true})
    children.push(child)
    return child
  }
  const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)))

  it('finds the processes of many runs in one walk, and no other run’s', () => {
    const tag = `t${process.pid}-${Date.now()}`
    const a1 = sleeper(`${tag}-a`)
    const a2 = sleeper(`${tag}-a`)
    const b = sleeper(`${tag}-b`)
    sleeper(`${tag}-c`)
    const found = processesOfRuns([
      {runId: `${tag}-a`, pgid: null},
      {runId: `${tag}-b`, pgid: null},
    ])
    expect([...found.keys()].sort()).toEqual([`${tag}-a`, `${tag}-b`])
    expect(found.get(`${tag}-a`)!.sort()).toEqual([a1.pid, a2.pid].sort())
    expect(found.get(`${tag}-b`)).toEqual([b.pid])
    // Pids known to be live runs are not read.
    expect(processesOfRuns([{runId: `${tag}-a`, pgid: null}], new Set([a1.pid!])).get(`${tag}-a`)).toEqual([a2.pid])
  })

  it('kills what it found and counts it per run', async () => {
    const tag = `k${process.pid}-${Date.now()}`
    const a = sleeper(`${tag}-a`)
    const b = sleeper(`${tag}-b`)
    const bystander = sleeper(`${tag}-c`)
    const counts = killRuns([
      {runId: `${tag}-a`, pgid: null},
      {runId: `${tag}-b`, pgid: null, since: b.pid! - 1},
    ])
    expect(Object.fromEntries(counts)).toEqual({[`${tag}-a`]: 1, [`${tag}-b`]: 1})
    await Promise.all([exited(a), exited(b)])
    expect(a.signalCode).toBe('SIGKILL')
    expect(b.signalCode).toBe('SIGKILL')
    expect(bystander.exitCode).toBeNull()
    expect(bystander.signalCode).toBeNull()
  })
})
