import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect} from 'vitest'
import {BIN, ROOT} from '../support/cli.js'
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

  it('whose daemon dies kills its cluster service instances at once (their leases died with it), while runs keep reporting', async () => {
    // A stand-in daemon: forks the spawner, starts a bound instance, a free run and a stream of
    // short runs (so reports are in flight when it dies), and is then killed with SIGKILL.
    const dir = mkdtempSync(join(tmpdir(), 'sched-spawner-bound-'))
    try {
      const spec = (id: string, script: string, bound: boolean) => ({
        runId: id, shell: '/bin/sh', script, args: [], env: {unit: {}, secrets: {}, params: {}, run: {task: 't', runId: id, attempt: 0}},
        log: {path: join(dir, `${id}.log`), maxSize: 1_000_000, onFull: 'drop_old', secrets: []}, ...(bound ? {diesWithDaemon: true} : {}),
      })
      const daemon = join(dir, 'daemon.mjs')
      writeFileSync(daemon, `import {fork} from 'node:child_process'
const sp = fork(${JSON.stringify(join(ROOT, 'dist', 'spawner.js'))}, [], {stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true})
sp.send({op: 'start', spec: ${JSON.stringify(spec('bound', `echo $$ > ${join(dir, 'bound.pid')}; exec sleep 30`, true))}})
sp.send({op: 'start', spec: ${JSON.stringify(spec('free', `echo $$ > ${join(dir, 'free.pid')}; exec sleep 30`, false))}})
let n = 0
setInterval(() => sp.send({op: 'start', spec: {...${JSON.stringify(spec('short', 'true', false))}, runId: 'short' + n++}}), 2)
sp.on('message', () => {})
`)
      const child = spawn(process.execPath, [daemon], {stdio: 'ignore'})
      const pidOf = (name: string) => Number(readFileSync(join(dir, `${name}.pid`), 'utf8'))
      const [bound, free] = await until(() => {
        try {
          return [pidOf('bound'), pidOf('free')]
        } catch {
          return undefined
        }
      }, 10_000, 'both runs to start')
      await new Promise((r) => setTimeout(r, 300))
      child.kill('SIGKILL')
      await until(() => !alive(bound), 3000, 'the bound instance to be killed')
      expect(alive(free), 'a run that is not bound outlives the daemon (the next boot recovers it)').toBe(true)
      process.kill(free, 'SIGKILL')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
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
