import {spawn} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {describe, expect} from 'vitest'
import {BIN} from '../support/cli.js'
import {alive, it, until} from '../support/sandbox.js'

/** The daemon's spawner processes: children of `daemonPid` running dist/spawner.js. */
function spawners(daemonPid: number): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === daemonPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spawner.js')) found.push(pid)
    } catch {
      // gone
    }
  }
  return found
}

describe.runIf(process.platform === 'linux')('the spawner process', () => {
  it('that dies takes its runs with it: their processes are killed and the runs end, the next starts a new one', async ({box}) => {
    const b = box.with('[tasks.long]\nrun = "sleep 30"\n[tasks.quick]\nrun = "echo hi"\n')
    const daemon = await b.start()
    const id = await b.trigger('long')
    const pid = await until(() => b.run('long', id)?.pid ?? undefined, 10_000, 'the run to start')
    const [spawner] = spawners(daemon.child.pid!)
    expect(spawner).toBeGreaterThan(0)
    process.kill(spawner, 'SIGKILL')
    const record = await b.ended('long', id, 10_000)
    expect(record).toMatchObject({end_reason: 'failed', signal: 'SIGKILL'})
    await until(() => !alive(pid), 5000, 'the run’s process to be killed')
    // The daemon goes on: the next run gets a new spawner.
    expect(await b.ended('quick', await b.trigger('quick'), 10_000)).toMatchObject({end_reason: 'success'})
  })

  it('whose daemon is killed with SIGKILL exits too, leaving the run to the next boot', async ({box}) => {
    const b = box.with('[tasks.long]\nrun = "sleep 30"\n')
    const daemon = await b.start()
    const id = await b.trigger('long')
    const pid = await until(() => b.run('long', id)?.pid ?? undefined, 10_000, 'the run to start')
    const [spawner] = spawners(daemon.child.pid!)
    await b.stop('SIGKILL')
    await until(() => !alive(spawner), 5000, 'the spawner to exit')
    expect(alive(pid)).toBe(true)
    await b.start()
    expect(b.run('long', id)).toMatchObject({status: 'ended', end_reason: 'crashed'})
    await until(() => !alive(pid), 5000, 'the orphan to be killed by the boot’s recovery')
  })

  it('starts with the first run, not with the daemon', async ({box}) => {
    const b = box.with('[tasks.quick]\nrun = "true"\n')
    const daemon = await b.start()
    expect(spawners(daemon.child.pid!)).toEqual([])
    await b.ended('quick', await b.trigger('quick'), 10_000)
    expect(spawners(daemon.child.pid!)).toHaveLength(1)
  })
  it('is not reached by a Ctrl-C meant for the daemon: the runs stop with their ladders', async ({box}) => {
    const b = box.with('[tasks.long]\nrun = "sleep 30"\n')
    // A daemon in a terminal: the terminal signals its whole process group.
    const daemon = spawn(process.execPath, [BIN, 'serve', '-c', b.config, '--state-dir', b.state, '--port', '0'], {detached: true, stdio: 'ignore'})
    const exited = new Promise((resolve) => daemon.once('exit', resolve))
    try {
      await until(() => b.exists('state/api-token') && b.exists('state/daemon.json'), 10_000, 'the daemon to serve')
      const id = await b.trigger('long')
      await until(() => b.run('long', id)?.pid ?? undefined, 10_000, 'the run to start')
      process.kill(-daemon.pid!, 'SIGINT')
      await exited
      expect(b.run('long', id)).toMatchObject({status: 'ended', end_reason: 'stopped', message: 'stopped at daemon shutdown'})
    } finally {
      if (daemon.exitCode === null && daemon.signalCode === null) process.kill(-daemon.pid!, 'SIGKILL')
    }
  })
})
