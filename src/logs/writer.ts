import {EventEmitter} from 'node:events'
import {type FileHandle, open, rename} from 'node:fs/promises'
import {errorMessage} from '../core/errors.js'
import type {LogOnFull} from '../core/types.js'
import {
  type FrameTag,
  type LogStream,
  ROTATED_MARKER,
  countNewlines,
  droppedMarker,
  encodeFrame,
  finalFrameLength,
  fitPayload,
  frameHeader,
  fullMarker,
  metaPayload,
  olderSegmentPath,
} from './format.js'

export interface LogWriterOptions {
  /** The log file; its parent directory exists. */
  readonly path: string
  /** `log_max_size`: on-disk bytes (headers and payloads), > 0. */
  readonly maxSize: number
  readonly onFull: LogOnFull
  /** Values masked as `[redacted]`; pieces shorter than 4 characters are left alone. */
  readonly secrets?: readonly string[]
  readonly now?: () => number
  /** `kill_task` tripped; called once, off the caller's stack. */
  readonly onOverflow?: () => void
}

/** Past this much unwritten data `write` asks the source to pause. */
const HIGH_WATER = 1 << 20
const LOW_WATER = 256 << 10
/** With secrets, a stream without newlines is still flushed once this much is held. */
const SECRET_FLUSH = 64 << 10
const REDACTED = Buffer.from('[redacted]')
const NEWLINE = 10
const ROTATED_LINE = Buffer.from(`${ROTATED_MARKER}\n`)
const STREAM_OF: Record<FrameTag, LogStream> = {o: 'stdout', e: 'stderr', s: 'system', m: 'system'}

/** Frames queued for one writev. */
interface Batch {
  bufs: Buffer[]
  size: number
  /** Process-output payload bytes in it, added to `bytes` once written. */
  output: number
}
const ROTATE = Symbol('rotate')
type Op = Batch | typeof ROTATE

/** Output held back until a newline so that a secret split across chunks is still seen whole. */
interface Held {
  parts: Buffer[]
  length: number
  ts: number
}

/**
 * Captures one run's stdout and stderr into its log file (format: format.ts).
 *
 * Each chunk becomes one frame, queued and written in order by a single async loop that
 * coalesces everything queued into one writev, so the event loop never waits on the disk and a
 * rotation can never overtake the frames before it. Caps are decided synchronously at `write`
 * from the bytes queued so far. A disk error is recorded, never thrown: the run is more
 * important than its log.
 *
 * Events: `drain` after `write` returned false; `frame` (stream, ts, payload) for every frame
 * stored, for live followers.
 */
export class LogWriter extends EventEmitter {
  private readonly path: string
  private readonly cap: number
  private readonly onFull: LogOnFull
  private readonly now: () => number
  private readonly onOverflow: (() => void) | undefined
  private readonly secrets: readonly Buffer[]
  private readonly heldOut: Held = {parts: [], length: 0, ts: 0}
  private readonly heldErr: Held = {parts: [], length: 0, ts: 0}
  private fh: FileHandle
  private readonly ops: Op[] = []
  private tail: Batch | undefined
  private queued = 0
  private flushing = false
  private needDrain = false
  private idleWaiters: (() => void)[] = []
  /** Size the current file will have once the queue is written. */
  private fileSize = 0
  /** Bytes of the current file known to be on disk, all complete frames. */
  private written = 0
  private segmentOutput = 0
  /** `\n` count so far, the base of the next segment; only drop_old rotates, only it counts. */
  private lines = 0
  private rotations = 0
  private full = false
  private droppedBytes = 0
  private stored = 0
  private failure: string | undefined
  private closing: Promise<void> | undefined

  private constructor(fh: FileHandle, options: LogWriterOptions) {
    super()
    this.fh = fh
    this.path = options.path
    this.cap = options.maxSize
    this.onFull = options.onFull
    this.now = options.now ?? Date.now
    this.onOverflow = options.onOverflow
    this.secrets = prepareSecrets(options.secrets ?? [])
  }

  /** Creates the log (0600) and queues its first `{"base":0}` frame. Rejects only if the file cannot be created. */
  static async open(options: LogWriterOptions): Promise<LogWriter> {
    if (!(options.maxSize > 0)) throw new RangeError(`log_max_size must be > 0, got ${options.maxSize}`)
    const fh = await open(options.path, 'w', 0o600)
    const writer = new LogWriter(fh, options)
    writer.append('m', writer.now(), metaPayload({base: 0}), false)
    return writer
  }

  /** Bytes of process output stored: o/e payloads written, after masking and drops. */
  get bytes(): number {
    return this.stored
  }

  /** Why the log stopped recording, if the disk failed. */
  get error(): string | undefined {
    return this.failure
  }

  /**
   * Keeps a reference to `chunk` until it is written: do not reuse it. False asks the caller to
   * pause the source until `drain`; the chunk was still taken.
   */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): boolean {
    if (this.closing !== undefined || this.failure !== undefined || chunk.length === 0) return true
    if (this.full) {
      this.droppedBytes += chunk.length
      return true
    }
    const ts = this.now()
    const tag = stream === 'stdout' ? 'o' : 'e'
    if (this.secrets.length === 0) this.output(tag, ts, chunk)
    else this.masked(tag, tag === 'o' ? this.heldOut : this.heldErr, ts, chunk)
    if (this.queued < HIGH_WATER || this.failure !== undefined) return true
    this.needDrain = true
    return false
  }

  /** Appends one of sched's own lines (`\n` is added). */
  system(text: string): void {
    if (this.closing !== undefined || this.failure !== undefined) return
    this.systemLine(this.now(), text)
  }

  /** Flushes held output, writes `{"final":true}` and closes. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.finish()
    return this.closing
  }

  private async finish(): Promise<void> {
    try {
      const ts = this.now()
      for (const [tag, held] of [['o', this.heldOut], ['e', this.heldErr]] as const) {
        if (held.length === 0) continue
        this.output(tag, held.ts, redact(Buffer.concat(held.parts), this.secrets, Infinity).out)
        held.parts = []
        held.length = 0
      }
      if (this.full && this.droppedBytes > 0) this.systemLine(ts, droppedMarker(this.droppedBytes))
      const final = metaPayload({final: true})
      if (this.failure === undefined) this.append('m', ts, final, false)
      await this.idle()
      // Without the final frame followers would wait forever; the disk may have room again.
      if (this.failure !== undefined) await this.writeDirect(encodeFrame('m', ts, final))
      // No fsync: a log is an append-only stream that the page cache keeps across a daemon crash,
      // and one sync per run would cost more than the run itself for short tasks.
    } catch (error) {
      this.failure ??= `log write failed: ${describe(error)}`
    }
    await this.fh.close().catch(() => {})
  }

  private masked(tag: 'o' | 'e', held: Held, ts: number, chunk: Buffer): void {
    const nl = chunk.lastIndexOf(NEWLINE)
    if (nl === -1) {
      if (held.length === 0) held.ts = ts
      held.parts.push(chunk)
      held.length += chunk.length
      if (held.length < SECRET_FLUSH) return
      // No newline for a long while: flush all but a tail that could hold the start of a secret.
      const buffer = Buffer.concat(held.parts)
      const {out, used} = redact(buffer, this.secrets, Math.max(buffer.length - this.secrets[0].length + 1, buffer.length >> 1))
      this.output(tag, held.ts, out)
      const rest = buffer.subarray(used)
      held.parts = rest.length > 0 ? [rest] : []
      held.length = rest.length
      held.ts = ts
      return
    }
    const head = chunk.subarray(0, nl + 1)
    const buffer = held.length === 0 ? head : Buffer.concat([...held.parts, head])
    this.output(tag, held.length === 0 ? ts : held.ts, redact(buffer, this.secrets, Infinity).out)
    const rest = chunk.subarray(nl + 1)
    held.parts = rest.length > 0 ? [rest] : []
    held.length = rest.length
    held.ts = ts
  }

  /** Frames process output under the cap policy. */
  private output(tag: 'o' | 'e', ts: number, payload: Buffer): void {
    if (this.full) {
      this.droppedBytes += payload.length
      return
    }
    let rest = payload
    for (;;) {
      const room = this.room(ts)
      const header = frameHeader(tag, ts, rest.length)
      if (header.length + rest.length <= room) {
        this.append(tag, ts, rest, true, header)
        return
      }
      const k = fitPayload(room, ts)
      if (k > 0) {
        this.append(tag, ts, rest.subarray(0, k), true)
        rest = rest.subarray(k)
      }
      if (this.onFull !== 'drop_old') {
        this.trip(ts, rest.length)
        return
      }
      // A fresh segment with no room for one byte: the cap is below the format's own overhead.
      if (this.segmentOutput === 0) return
      this.rotate(ts)
    }
  }

  /** Room for frames in the current file, keeping space for the final frame so the closed file is within the cap too. */
  private room(ts: number): number {
    return this.cap - this.fileSize - finalFrameLength(ts)
  }

  private trip(ts: number, dropped: number): void {
    this.full = true
    this.droppedBytes += dropped
    this.append('s', ts, Buffer.from(`${fullMarker(this.cap, this.onFull === 'kill_task' ? 'kill_task' : 'drop_new')}\n`), false)
    if (this.onFull === 'kill_task' && this.onOverflow) process.nextTick(this.onOverflow)
  }

  private rotate(ts: number): void {
    const replacesOlder = this.rotations > 0
    this.rotations++
    this.ops.push(ROTATE)
    this.tail = undefined
    this.fileSize = 0
    this.segmentOutput = 0
    this.append('m', ts, metaPayload({base: this.lines}), false)
    if (replacesOlder) this.append('s', ts, ROTATED_LINE, false)
  }

  private systemLine(ts: number, text: string): void {
    const payload = Buffer.from(`${text}\n`)
    const header = frameHeader('s', ts, payload.length)
    // A system line is never split: start a new segment rather than exceed the cap.
    if (this.onFull === 'drop_old' && this.segmentOutput > 0 && header.length + payload.length > this.room(ts)) this.rotate(ts)
    this.append('s', ts, payload, false, header)
  }

  private append(tag: FrameTag, ts: number, payload: Buffer, output: boolean, header = frameHeader(tag, ts, payload.length)): void {
    let batch = this.tail
    if (batch === undefined) {
      batch = {bufs: [], size: 0, output: 0}
      this.ops.push(batch)
      this.tail = batch
    }
    batch.bufs.push(header, payload)
    const size = header.length + payload.length
    batch.size += size
    this.queued += size
    this.fileSize += size
    if (output) {
      batch.output += payload.length
      this.segmentOutput += payload.length
    }
    if (tag !== 'm') {
      if (this.onFull === 'drop_old') this.lines += countNewlines(payload)
      if (this.listenerCount('frame') > 0) this.emit('frame', STREAM_OF[tag], ts, payload)
    }
    if (!this.flushing) {
      this.flushing = true
      void this.flush()
    }
  }

  private async flush(): Promise<void> {
    for (let op = this.ops.shift(); op !== undefined; op = this.ops.shift()) {
      if (op === this.tail) this.tail = undefined
      if (op === ROTATE) {
        if (this.failure === undefined) await this.switchFile()
        continue
      }
      if (this.failure === undefined) await this.writeBatch(op)
      this.queued -= op.size
      if (this.needDrain && (this.queued <= LOW_WATER || this.failure !== undefined)) {
        this.needDrain = false
        this.emit('drain')
      }
    }
    this.flushing = false
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  private idle(): Promise<void> {
    return this.flushing ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve()
  }

  private async writeBatch(batch: Batch): Promise<void> {
    try {
      await writeAll(this.fh, batch.bufs, batch.size, this.written)
      this.written += batch.size
      this.stored += batch.output
    } catch (error) {
      await this.fail(error)
    }
  }

  private async switchFile(): Promise<void> {
    try {
      await this.fh.close()
      await rename(this.path, olderSegmentPath(this.path))
      this.fh = await open(this.path, 'w', 0o600)
      this.written = 0
    } catch (error) {
      await this.fail(error)
    }
  }

  private async fail(error: unknown): Promise<void> {
    if (this.failure !== undefined) return
    this.failure = `log write failed: ${describe(error)}`
    // Cut a torn batch back to the last whole frame so the note below is readable.
    await this.fh.truncate(this.written).catch(() => {})
    await this.writeDirect(encodeFrame('s', this.now(), `[sched] ${this.failure}; further output is discarded\n`))
  }

  /** One attempt, errors ignored: used only once the log has already failed. */
  private async writeDirect(frame: Buffer): Promise<void> {
    try {
      await writeAll(this.fh, [frame], frame.length, this.written)
      this.written += frame.length
    } catch {
      // the failure is already recorded
    }
  }
}

async function writeAll(fh: FileHandle, bufs: Buffer[], size: number, position: number): Promise<void> {
  let done = 0
  while (done < size) {
    const {bytesWritten} = await fh.writev(done === 0 ? bufs : skipBytes(bufs, done), position + done)
    if (bytesWritten <= 0) throw new Error('write made no progress')
    done += bytesWritten
  }
}

function skipBytes(bufs: Buffer[], skip: number): Buffer[] {
  let i = 0
  while (skip >= bufs[i].length) skip -= bufs[i++].length
  return [bufs[i].subarray(skip), ...bufs.slice(i + 1)]
}

/** Secret values as byte strings, longest first so the longest match wins. Multi-line values are matched line by line, since output is only held back up to a newline. */
function prepareSecrets(values: readonly string[]): Buffer[] {
  const pieces = new Set<string>()
  for (const value of values) {
    for (const piece of value.split(/\r?\n/)) if (piece.length >= 4) pieces.add(piece)
  }
  return [...pieces].map((piece) => Buffer.from(piece)).sort((a, b) => b.length - a.length)
}

/**
 * Replaces secrets in `buffer`, leftmost first. Only matches starting before `limit` are
 * replaced; `used` is how much of `buffer` the result covers (the rest is kept for later).
 */
function redact(buffer: Buffer, secrets: readonly Buffer[], limit: number): {out: Buffer; used: number} {
  const found = secrets.map((secret) => buffer.indexOf(secret))
  let parts: Buffer[] | undefined
  let pos = 0
  for (;;) {
    let at = -1
    let length = 0
    for (let i = 0; i < secrets.length; i++) {
      if (found[i] !== -1 && found[i] < pos) found[i] = buffer.indexOf(secrets[i], pos)
      if (found[i] !== -1 && (at === -1 || found[i] < at)) {
        at = found[i]
        length = secrets[i].length
      }
    }
    if (at === -1 || at >= limit) break
    ;(parts ??= []).push(buffer.subarray(pos, at), REDACTED)
    pos = at + length
  }
  const used = Math.max(pos, Math.min(limit, buffer.length))
  if (parts === undefined) return {out: used === buffer.length ? buffer : buffer.subarray(0, used), used}
  parts.push(buffer.subarray(pos, used))
  return {out: Buffer.concat(parts), used}
}

/** "ENOSPC: no space left on device", without Node's ", write" suffix. */
function describe(error: unknown): string {
  const message = errorMessage(error)
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall
  const at = syscall ? message.indexOf(`, ${syscall}`) : -1
  return at > 0 ? message.slice(0, at) : message
}
