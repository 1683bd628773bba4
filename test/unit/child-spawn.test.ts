import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {afterAll, describe, expect, it} from 'vitest'
import {HelperSpawn, type SpawnedChild, type SpawnRequest} from '../../src/engine/runner/child-spawn.js'
import {ROOT} from '../support/cli.js'
import {alive, until} from '../support/sandbox.js'

/**
 * The spawn helper (native/spawn-helper.c, built into dist/ by `npm run build`) through
 * HelperSpawn, with real processes: what the runner relies on from Node's spawn must hold here
 * too — its own session and group, piped output, exit codes and signal names, start errors.
 */
const HELPER = join(ROOT, 'dist', 'spawn-helper')
const DIST_MODULE = new URL(`file://${join(ROOT, 'dist', 'spawner.js')}`).href
const tmp = mkdtempSync(join(tmpdir(), 'sched-child-spawn-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

function sh(script: string, extra: Partial<SpawnRequest> = {}): SpawnRequest {
  return {file: '/bin/sh', args: ['-c', script, 'sched'], env: {PATH: '/usr/bin:/bin'}, ...extra}
}

function text(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let s = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => (s += chunk))
    stream.on('close', () => resolve(s))
  })
}

function exit(child: SpawnedChild): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve) => child.onExit((code, signal) => resolve([code, signal])))
}

describe('HelperSpawn', () => {
  it('is built beside the bundles, and found there', () => {
    expect(existsSync(HELPER)).toBe(true)
    expect(HelperSpawn.beside(DIST_MODULE)).toBeInstanceOf(HelperSpawn)
  })

  it('pipes stdout and stderr apart and reports the exit code', async () => {
    const {spawn} = new HelperSpawn(HELPER)
    const child = await spawn(sh('echo out; echo err >&2; read x || echo "stdin: eof"; exit 7'))
    const [out, err, ended] = await Promise.all([text(child.stdout), text(child.stderr), exit(child)])
    expect(out).toBe('out\nstdin: eof\n')
    expect(err).toBe('err\n')
    expect(ended).toEqual([7, null])
  })

  it('starts the process as the leader of its own session and group, with exactly the environment and directory given', async () => {
    const {spawn} = new HelperSpawn(HELPER)
    const child = await spawn(sh('echo "$PWD|$ONLY|${HOME-unset}"; cat /proc/self/stat', {cwd: tmp, env: {ONLY: 'one value', PATH: '/usr/bin:/bin'}}))
    const [out] = await Promise.all([text(child.stdout), exit(child)])
    const [first, stat] = out.split('\n')
    expect(first).toBe(`${tmp}|one value|unset`)
    // /proc/<pid>/stat: pid (comm) state ppid pgrp session …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    expect(Number(fields[2])).toBe(child.pid)
    expect(Number(fields[3])).toBe(child.pid)
  })

  it('names the signal that ended a process', async () => {
    const {spawn} = new HelperSpawn(HELPER)
    const child = await spawn(sh('kill -TERM $$; sleep 5'))
    expect(await exit(child)).toEqual([null, 'SIGTERM'])
  })

  it('rejects with the reason when the program cannot start', async () => {
    const {spawn} = new HelperSpawn(HELPER)
    await expect(spawn({file: join(tmp, 'no-such-shell'), args: [], env: {}})).rejects.toThrow(/No such file or directory/)
    await expect(spawn(sh('true', {cwd: join(tmp, 'gone')}))).rejects.toThrow(/No such file or directory/)
    await expect(spawn(sh('true', {env: {BAD: 'a\0b'}}))).rejects.toThrow(/null bytes/)
  })

  it('reports every end of a burst, including ends that arrive with their starts', async () => {
    const {spawn} = new HelperSpawn(HELPER)
    const ends = await Promise.all(Array.from({length: 200}, (_, i) => spawn(sh(`exit ${i % 5}`)).then(exit)))
    expect(ends).toEqual(Array.from({length: 200}, (_, i) => [i % 5, null]))
  })

  it('kills and reports its processes killed when the helper dies, and starts a new helper for the next', async () => {
    const helper = new HelperSpawn(HELPER)
    const child = await helper.spawn(sh('echo $$; exec sleep 30'))
    const ended = exit(child)
    const helperPid = Number(readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')[1])
    process.kill(helperPid, 'SIGKILL')
    expect(await ended).toEqual([null, 'SIGKILL'])
    // SIGKILL to its group was sent before the end was reported; the kernel finishes it soon after.
    await until(() => !alive(child.pid), 2000, `process ${child.pid} to be gone`)
    const next = await helper.spawn(sh('exit 3'))
    expect(await exit(next)).toEqual([3, null])
  })

  it("falls back to Node's spawn when the helper cannot be executed here", async () => {
    const broken = join(tmp, 'spawn-helper')
    writeFileSync(broken, 'not a program')
    chmodSync(broken, 0o755)
    const {spawn} = new HelperSpawn(broken)
    const child = await spawn(sh('echo fine; exit 2'))
    const [out, ended] = await Promise.all([text(child.stdout), exit(child)])
    expect([out, ended]).toEqual(['fine\n', [2, null]])
  })
})
