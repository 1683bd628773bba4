import {spawn} from 'node:child_process'
import {constants as fsConstants, existsSync, openSync} from 'node:fs'
import {constants as osConstants} from 'node:os'
import {Socket} from 'node:net'
import type {Readable} from 'node:stream'
import {signalGroup} from './process-group.js'

/** A started process as the runner watches it, whichever way it was started. */
export interface SpawnedChild {
  readonly pid: number
  readonly stdout: Readable
  readonly stderr: Readable
  /** Called once, when the process has exited (its pipes may still be open). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void
}

export interface SpawnRequest {
  readonly file: string
  readonly args: readonly string[]
  readonly cwd?: string
  readonly env: Readonly<Record<string, string>>
  readonly uid?: number
  readonly gid?: number
}

/**
 * Starts `file args…` in its own session and process group, stdin /dev/null, stdout and stderr
 * piped. Rejects with the reason when the process could not start.
 */
export type SpawnChild = (request: SpawnRequest) => Promise<SpawnedChild>

/** Node's spawn: a fork of this whole process, then exec. Blocks the event loop for milliseconds. */
export const nodeSpawn: SpawnChild = (request) =>
  new Promise((resolve, reject) => {
    const child = spawn(request.file, [...request.args], {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: request.uid,
      gid: request.gid,
    })
    if (child.pid === undefined) {
      child.once('error', reject)
      return
    }
    // Errors after the spawn (a failed signal through the handle) must not crash anything; the
    // outcome comes from 'exit'.
    child.on('error', () => {})
    const pid = child.pid
    resolve({pid, stdout: child.stdout!, stderr: child.stderr!, onExit: (listener) => child.once('exit', listener)})
  })

type ExitListener = (code: number | null, signal: NodeJS.Signals | null) => void

/** A process's end, kept when it is reported before the runner has listened (same chunk as its start). */
interface ExitSlot {
  listener?: ExitListener
  ended?: [number | null, NodeJS.Signals | null]
}

interface Pending {
  readonly request: SpawnRequest
  readonly resolve: (child: SpawnedChild) => void
  readonly reject: (error: Error) => void
}

const signalNames = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]))

/**
 * Starts processes through sched's spawn helper (native/spawn-helper.c): posix_spawn from a
 * process of a few hundred kilobytes instead of a fork of V8, measured on a 2-core machine at
 * 330–354 `sh -c true` per second against Node's 155. The helper is the processes' parent and
 * reports their ends; each pipe's read end is opened here through /proc/<helper>/fd, so output
 * flows straight into this process, one stream per run, as with Node's spawn.
 *
 * Processes with a `user` (setuid) go through Node's spawn: posix_spawn cannot change accounts.
 */
export class HelperSpawn {
  private helper?: ReturnType<typeof spawn>
  private readonly pending = new Map<string, Pending>()
  private readonly exits = new Map<number, ExitSlot>()
  private nextId = 0
  /** The helper could not be executed here (built for another machine): Node's spawn instead. */
  private unusable = false
  /** A helper has replied at least once: it runs here. */
  private answered = false
  private buffered = ''

  constructor(private readonly path: string) {}

  /** The helper built beside this module (dist/spawn-helper), when the build had a C compiler. */
  static beside(moduleUrl: string): HelperSpawn | undefined {
    if (process.env.SCHED_SPAWN_HELPER === '0' || process.platform !== 'linux') return undefined
    const path = new URL('./spawn-helper', moduleUrl).pathname
    return existsSync(path) ? new HelperSpawn(path) : undefined
  }

  readonly spawn: SpawnChild = (request) => {
    if (this.unusable || request.uid !== undefined || request.gid !== undefined) return nodeSpawn(request)
    const env = Object.entries(request.env).map(([k, v]) => `${k}=${v}`)
    // The helper's fields are NUL-separated; exec could not take such a string either.
    if ([request.file, ...request.args, ...env, request.cwd ?? ''].some((f) => f.includes('\0')))
      return Promise.reject(new Error('arguments, environment and working directory must be strings without null bytes'))
    const id = String(++this.nextId)
    return new Promise((resolve, reject) => {
      this.pending.set(id, {request, resolve, reject})
      this.send(['S', id, request.cwd ?? '', String(1 + request.args.length), request.file, ...request.args, String(env.length), ...env])
    })
  }

  private send(fields: readonly string[]): void {
    const body = Buffer.from(fields.join('\0') + '\0')
    const frame = Buffer.allocUnsafe(4 + body.length)
    frame.writeUInt32LE(body.length, 0)
    body.copy(frame, 4)
    this.start().stdin!.write(frame)
  }

  private start(): ReturnType<typeof spawn> {
    if (this.helper) return this.helper
    const helper = spawn(this.path, [], {stdio: ['pipe', 'pipe', 'inherit']})
    this.helper = helper
    helper.stdout!.setEncoding('latin1')
    helper.stdout!.on('data', (text: string) => this.received(helper, text))
    helper.on('error', () => {})
    // Writes into a helper that just died fail here; its 'exit' reports the loss.
    helper.stdin!.on('error', () => {})
    helper.on('exit', () => this.lost(helper))
    return helper
  }

  private received(helper: ReturnType<typeof spawn>, text: string): void {
    this.answered = true
    this.buffered += text
    let end: number
    while ((end = this.buffered.indexOf('\n')) !== -1) {
      const line = this.buffered.slice(0, end)
      this.buffered = this.buffered.slice(end + 1)
      const words = line.split(' ')
      const [op, a, b, c, d] = words
      if (op === 'S') this.started(helper, a, Number(b), c, d)
      // F id errno message: the message is the rest of the line.
      else if (op === 'F') this.failed(a, words.slice(3).join(' '))
      else if (op === 'X') this.exited(Number(a), Number(b))
    }
  }

  private started(helper: ReturnType<typeof spawn>, id: string, pid: number, outFd: string, errFd: string): void {
    const pending = this.pending.get(id)
    this.pending.delete(id)
    const open = (fd: string) =>
      new Socket({fd: openSync(`/proc/${helper.pid}/fd/${fd}`, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK), readable: true, writable: false})
    let stdout: Socket
    let stderr: Socket
    try {
      stdout = open(outFd)
      stderr = open(errFd)
    } finally {
      this.send(['R', outFd, errFd])
    }
    const slot: ExitSlot = {}
    this.exits.set(pid, slot)
    const onExit = (listener: ExitListener) => {
      if (slot.ended) listener(...slot.ended)
      else slot.listener = listener
    }
    pending?.resolve({pid, stdout, stderr, onExit})
  }

  private failed(id: string, message: string): void {
    const pending = this.pending.get(id)
    this.pending.delete(id)
    pending?.reject(new Error(message))
  }

  private exited(pid: number, status: number): void {
    const slot = this.exits.get(pid)
    if (!slot) return
    this.exits.delete(pid)
    // The raw wait status: the low 7 bits are the signal that ended the process, or 0 for an exit.
    const signal = status & 0x7f
    end(slot, signal === 0 ? (status >> 8) & 0xff : null, signal === 0 ? null : (signalNames.get(signal) ?? 'SIGKILL'))
  }

  /**
   * The helper died (a bug, or killed): its processes would never be reported ended. They are
   * killed and reported killed, as a dead spawner's are; the next spawn starts a new helper.
   */
  private lost(helper: ReturnType<typeof spawn>): void {
    if (this.helper === helper) this.helper = undefined
    this.buffered = ''
    // Gone without a word: it cannot run on this machine (built for another one, or not a program).
    if (!this.answered) this.unusable = true
    for (const {request, resolve, reject} of this.pending.values()) {
      if (this.unusable) nodeSpawn(request).then(resolve, reject)
      else reject(new Error('the spawn helper exited'))
    }
    this.pending.clear()
    for (const [pid, slot] of [...this.exits]) {
      signalGroup(pid, 'SIGKILL')
      this.exits.delete(pid)
      end(slot, null, 'SIGKILL')
    }
  }
}

function end(slot: ExitSlot, code: number | null, signal: NodeJS.Signals | null): void {
  slot.ended = [code, signal]
  slot.listener?.(code, signal)
}
