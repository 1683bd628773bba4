import {readdirSync, statSync} from 'node:fs'
import {describe, expect} from 'vitest'
import {type Sandbox, it, q, until} from '../support/sandbox.js'

/**
 * Log caps and retention through a real daemon (SPEC §2 log_max_size/log_on_full,
 * keep_runs/keep_for/max_storage, §7 retention at boot).
 */

async function serve(b: Sandbox, toml: string): Promise<Sandbox> {
  b.write(toml)
  await b.start()
  return b
}

/** A script printing `n` numbered 100-byte lines. */
function printLines(n: number): string {
  return q(`i=0; while [ $i -lt ${n} ]; do printf '%099d\\n' $i; i=$((i+1)); done`)
}

function logBytesOnDisk(b: Sandbox, task: string, id: string): number {
  const dir = b.path(`state/logs/${task}`)
  return readdirSync(dir)
    .filter((f) => f.startsWith(id))
    .reduce((sum, f) => sum + statSync(`${dir}/${f}`).size, 0)
}

describe('log_max_size', () => {
  it('kill_task stops the run and ends it log_overflow, a failure', async ({box}) => {
    const b = await serve(box, `[tasks.loud]\nrun = ${q('while true; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done')}\nlog_max_size = "4kb"\nlog_on_full = "kill_task"\n`)
    const id = await b.trigger('loud')
    const run = await b.ended('loud', id, 10_000)
    expect(run).toMatchObject({end_reason: 'log_overflow', message: expect.stringContaining('log_max_size')})
    expect(await b.logText('loud', id)).toContain('stopping the run (log_on_full = "kill_task")')
  })

  it('drop_old keeps the newest output within 2 × cap on disk and numbers lines on', async ({box}) => {
    const b = await serve(box, `[tasks.many]\nrun = ${printLines(2000)}\nlog_max_size = "20kb"\nlog_on_full = "drop_old"\n`)
    const id = await b.trigger('many')
    const run = await b.ended('many', id, 10_000)
    expect(run.end_reason).toBe('success')
    expect(logBytesOnDisk(b, 'many', id)).toBeLessThanOrEqual(2 * 20 * 1024)
    const lines = (await b.log('many', id)).filter((l) => l.stream === 'stdout')
    expect(lines.at(-1)!.text).toBe('1999'.padStart(99, '0'))
    expect(lines[0].n).toBeGreaterThan(0)
  })

  it('drop_new keeps the head and writes one marker', async ({box}) => {
    const b = await serve(box, `[tasks.many]\nrun = ${printLines(2000)}\nlog_max_size = "10kb"\nlog_on_full = "drop_new"\n`)
    const id = await b.trigger('many')
    expect((await b.ended('many', id, 10_000)).end_reason).toBe('success')
    const lines = await b.log('many', id)
    expect(lines[0].text).toBe('0'.padStart(99, '0'))
    expect(lines.filter((l) => l.stream === 'system' && l.text.includes('further output is dropped'))).toHaveLength(1)
  })
})

describe('retention', () => {
  it('keep_runs deletes the oldest finished runs (records and logs) at boot', async ({box}) => {
    const b = await serve(box, `[tasks.t]\nrun = "echo hi"\n`)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const id = await b.trigger('t')
      await b.ended('t', id)
      ids.push(id)
    }
    await b.stop()
    b.write(`[tasks.t]\nrun = "echo hi"\nkeep_runs = 2\n`)
    await b.start()
    await until(() => b.runs('t').length === 2, 5000, 'retention to keep two runs')
    expect(b.runs('t').map((r) => r.id).sort()).toEqual(ids.slice(3))
    const logs = readdirSync(b.path('state/logs/t'))
    expect(logs.sort()).toEqual(ids.slice(3).map((id) => `${id}.log`))
  })

  it('counts runs a crashed daemon left running only once they are recorded crashed', async ({box}) => {
    const b = await serve(box, `[tasks.t]\nrun = "sleep 30"\nkeep_runs = 1\nmax_concurrent = 3\n`)
    const a = await b.trigger('t')
    const c = await b.trigger('t')
    await until(() => b.run('t', c)?.status === 'running', 5000, 'both runs to be running')
    await b.stop('SIGKILL')
    await b.start()
    // Both were running when the daemon died: they end crashed, and only then may retention take the older.
    await until(() => b.runs('t').every((r) => r.status === 'ended'), 5000, 'the crashed runs to be recorded')
    expect(b.runs('t').map((r) => r.end_reason)).toEqual(['crashed'])
    expect(b.runs('t')[0].id).toBe([a, c].sort()[1])
  })
})
