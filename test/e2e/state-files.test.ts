import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
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

  it('a truncated run record is reported and set aside; the daemon serves', async () => {
    const {dir, state, config} = setup('{"v":1,"id":"01JD5V7Q8M4Z6E8XK2R9T3W1YC","task_na')
    const daemon = await startDaemon(config, state)
    expect(daemon.stderr()).toMatch(/state\.corrupt .*01JD5V7Q8M4Z6E8XK2R9T3W1YC\.cli\.active\.json problem="not valid JSON/)
    expect(existsSync(join(state, 'runs', 't', `${RUN_ID}.cli.active.json`))).toBe(false)
    expect(readdirSync(join(state, 'corrupt'))).toEqual([expect.stringMatching(new RegExp(`^${RUN_ID}\\.cli\\.active\\.json\\.\\d+$`))])
    const res = await fetch(`${daemon.url}/api/tasks`, {headers: {authorization: `Bearer ${daemon.token}`}})
    expect(res.status).toBe(200)
    expect(await daemon.stop()).toBe(0)
    dir.cleanup()
  })
})
