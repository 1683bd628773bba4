import {existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli, startDaemon, tempDir} from '../support/cli.js'
import {unwrap} from '../support/sandbox.js'

/**
 * State files the daemon did not expect (SPEC §6): one from a newer sched is refused with a
 * clear message; a corrupt or truncated one is reported, set aside in corrupt/, and never stops
 * the daemon.
 */
const RUN_ID = '01JD5V7Q8M4Z6E8XK2R9T3W1YC'

function setup(record: string) {
  const dir = tempDir()
  const state = join(dir.path, 'state')
  const config = join(dir.path, 'sched.toml')
  writeFileSync(config, '[tasks.t]\nrun = "echo hi"\n')
  mkdirSync(join(state, 'runs', 't'), {recursive: true})
  writeFileSync(join(state, 'runs', 't', `${RUN_ID}.cli.active.json`), record)
  return {dir, state, config}
}

describe('state files', () => {
  it('a run record from a newer sched stops the daemon from starting, saying why', async () => {
    const {dir, state, config} = setup(JSON.stringify({v: 99, id: RUN_ID, task_name: 't', status: 'running'}))
    // Wide enough that oclif does not wrap the long path inside the message.
    const res = await runCli(['serve', '-c', config, '--state-dir', state, '--port', '0'], {env: {OCLIF_COLUMNS: '400'}})
    expect(res.code).toBe(1)
    expect(unwrap(res.stderr)).toContain(`${RUN_ID}.cli.active.json was written by a newer sched (state format 99; this sched reads 1)`)
    expect(res.stderr).not.toContain('sched serving')
    dir.cleanup()
  })

  it('a truncated active record is reported and set aside, rebuilt from its name and ended crashed; the daemon serves', async () => {
    const {dir, state, config} = setup('{"v":1,"id":"01JD5V7Q8M4Z6E8XK2R9T3W1YC","task_na')
    const daemon = await startDaemon(config, state)
    expect(daemon.stderr()).toMatch(/state\.corrupt .*01JD5V7Q8M4Z6E8XK2R9T3W1YC\.cli\.active\.json problem="not valid JSON/)
    expect(existsSync(join(state, 'runs', 't', `${RUN_ID}.cli.active.json`))).toBe(false)
    expect(readdirSync(join(state, 'corrupt'))).toEqual([expect.stringMatching(new RegExp(`^${RUN_ID}\\.cli\\.active\\.json\\.\\d+$`))])
    const res = await fetch(`${daemon.url}/api/tasks`, {headers: {authorization: `Bearer ${daemon.token}`}})
    expect(res.status).toBe(200)
    const runs = (await (await fetch(`${daemon.url}/api/runs`, {headers: {authorization: `Bearer ${daemon.token}`}})).json()) as {runs: object[]; total: number}
    expect(runs.total).toBe(1)
    expect(runs.runs).toEqual([expect.objectContaining({id: RUN_ID, task_name: 't', triggered_by: 'cli', status: 'ended', end_reason: 'crashed', damaged: true})])
    expect(await daemon.stop()).toBe(0)
    dir.cleanup()
  })

  it.each([
    ['truncated', '{"v":1,"id":"01JD5V7Q8M4Z6E8XK2R9T3W1YC","task_na'],
    ['garbage', '\u0000\u0000\u0000\u0000'],
    ['another run', JSON.stringify({v: 1, id: '01JD5V7Q8M4Z6E8XK2R9T3W1YD', status: 'ended', end_reason: 'failed'})],
  ])('a %s finished record is rebuilt from its name, marked damaged, listed and counted', async (_what, text) => {
    const {dir, state, config} = setup('')
    rmSync(join(state, 'runs', 't', `${RUN_ID}.cli.active.json`))
    mkdirSync(join(state, 'runs', 't', RUN_ID.slice(0, 6)))
    writeFileSync(join(state, 'runs', 't', RUN_ID.slice(0, 6), `${RUN_ID}.api.success.json`), text)
    const daemon = await startDaemon(config, state)
    const auth = {headers: {authorization: `Bearer ${daemon.token}`}}
    const list = (await (await fetch(`${daemon.url}/api/runs`, auth)).json()) as {runs: {message: string}[]; total: number}
    expect(list.total).toBe(1)
    expect(list.runs).toEqual([
      expect.objectContaining({id: RUN_ID, task_name: 't', kind: 'task', triggered_by: 'api', status: 'ended', end_reason: 'success', created_at: '2024-11-20T22:31:39.028Z', damaged: true}),
    ])
    expect(list.runs[0].message).toMatch(/^this run's record was damaged \(kept as .*corrupt.*\); rebuilt from its file name/)
    expect(await (await fetch(`${daemon.url}/api/runs/${RUN_ID}`, auth)).json()).toMatchObject({id: RUN_ID, damaged: true})
    expect(daemon.stderr().match(/state\.corrupt/g)).toHaveLength(1)
    expect(await daemon.stop()).toBe(0)
    dir.cleanup()
  })
})
