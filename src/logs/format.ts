/**
 * The per-run log file format, shared by the writer, the readers and the followers.
 *
 * A log is a sequence of frames: an ASCII header `<tag><ts> <len>\n`, then exactly `len` payload
 * bytes. Output is framed per chunk as it arrives from the pipe, not per line, so capture costs
 * one short header per read whatever the line length; lines exist only for readers, which
 * rebuild them here from the frames.
 */

export type LogStream = 'stdout' | 'stderr' | 'system'

export interface LogLine {
  /** 0-based and absolute: the number of lines completed before this one since the run began. */
  n: number
  /** Unix ms when the line's first byte arrived. */
  ts: number
  stream: LogStream
  text: string
}

/** `o` stdout, `e` stderr, `s` sched's own complete lines, `m` a JSON object about the log itself. */
export type FrameTag = 'o' | 'e' | 's' | 'm'

export const TAG_STDOUT = 0x6f
export const TAG_STDERR = 0x65
export const TAG_SYSTEM = 0x73
export const TAG_META = 0x6d

export interface LogMeta {
  /** Line number of the first line completed in this segment (the `\n` count before it). */
  readonly base?: number
  /** The writer closed the log: no frame follows. */
  readonly final?: boolean
}

/** Receives each complete frame. `payload` may be a view of the reader's buffer: copy what you keep. */
export type FrameSink = (tag: number, ts: number, payload: Buffer) => void

/** Two 16-digit numbers (good for ms until the year 318857 and any file size) plus 3 bytes. */
const MAX_HEADER = 35

const NEWLINE = 10
const CR = 13
const SPACE = 32

export function frameHeader(tag: FrameTag, ts: number, length: number): Buffer {
  return Buffer.from(`${tag}${ts} ${length}\n`, 'latin1')
}

export function headerLength(ts: number, length: number): number {
  return 3 + String(ts).length + String(length).length
}

export function encodeFrame(tag: FrameTag, ts: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  return Buffer.concat([frameHeader(tag, ts, body.length), body])
}

export function metaPayload(meta: LogMeta): Buffer {
  return Buffer.from(JSON.stringify(meta))
}

/** Size on disk of the `{"final":true}` frame written at `ts`, which a capped writer keeps room for. */
export function finalFrameLength(ts: number): number {
  return headerLength(ts, FINAL_PAYLOAD_LENGTH) + FINAL_PAYLOAD_LENGTH
}
const FINAL_PAYLOAD_LENGTH = metaPayload({final: true}).length

/**
 * The largest payload whose frame fits in `room` bytes, 0 if not even one byte does. The length
 * field grows with the payload, so the best fit is checked once per digit count.
 */
export function fitPayload(room: number, ts: number): number {
  const fixed = 3 + String(ts).length
  let best = 0
  for (let digits = 1, low = 1; digits <= 16; digits++, low *= 10) {
    const k = Math.min(room - fixed - digits, low * 10 - 1)
    if (k >= low && k > best) best = k
  }
  return best
}

export function countNewlines(buffer: Buffer): number {
  let count = 0
  let i = buffer.indexOf(NEWLINE)
  while (i !== -1) {
    count++
    i = buffer.indexOf(NEWLINE, i + 1)
  }
  return count
}

// Marker lines. They live here because readers recognise them to report `truncated`.
const FULL_PREFIX = '[sched] log reached log_max_size ('

export function fullMarker(cap: number, onFull: 'drop_new' | 'kill_task'): string {
  const what = onFull === 'drop_new' ? 'further output is dropped' : 'stopping the run'
  return `${FULL_PREFIX}${cap} bytes); ${what} (log_on_full = "${onFull}")`
}

export function droppedMarker(bytes: number): string {
  return `[sched] ${bytes} bytes of output dropped`
}

export const ROTATED_MARKER = '[sched] older output dropped to keep the log under 2 × log_max_size (log_on_full = "drop_old")'

/** System lines saying output was lost. Every drop_old rotation that loses output writes one into the new segment, so one is always on disk afterwards. */
const LOSS_PREFIXES = [Buffer.from(FULL_PREFIX), Buffer.from(ROTATED_MARKER)]

function isLossMarker(payload: Buffer): boolean {
  return LOSS_PREFIXES.some((prefix) => payload.length >= prefix.length && payload.compare(prefix, 0, prefix.length, 0, prefix.length) === 0)
}

/** The older segment a `drop_old` writer rotates the log into. */
export function olderSegmentPath(path: string): string {
  return `${path}.1`
}

/**
 * Incremental frame decoder: feed it the file in chunks of any size. A header or payload split
 * across chunks is carried over (copied, so callers may reuse their read buffer); a truncated
 * last frame — a crash mid-write, or a writer still busy — is simply held back. A malformed
 * header stops decoding for good (`error`) instead of guessing where the next frame starts.
 */
export class FrameDecoder {
  /** Offset just past the last complete frame, counted from where decoding started. */
  position: number
  error: string | undefined
  private received: number
  private head: Buffer | undefined
  private need = -1
  private tag = 0
  private ts = 0
  private frameLength = 0
  private parts: Buffer[] = []

  constructor(position = 0) {
    this.position = position
    this.received = position
  }

  /** Bytes received of a frame not yet complete. */
  get pending(): number {
    return this.received - this.position
  }

  /** Decodes what `chunk` completes; false once the log is found corrupt. */
  push(chunk: Buffer, sink: FrameSink): boolean {
    if (this.error !== undefined) return false
    this.received += chunk.length
    const end = chunk.length
    let i = 0
    while (i < end) {
      if (this.need < 0) {
        const carried = this.head?.length ?? 0
        const nl = chunk.indexOf(NEWLINE, i)
        if (nl === -1 || carried + nl - i >= MAX_HEADER) {
          if (nl === -1 && carried + end - i < MAX_HEADER) {
            const rest = chunk.subarray(i)
            this.head = this.head ? Buffer.concat([this.head, rest]) : Buffer.from(rest)
            return true
          }
          return this.fail('frame header too long')
        }
        const ok = this.head
          ? this.parseHeader(Buffer.concat([this.head, chunk.subarray(i, nl)]), 0, carried + nl - i)
          : this.parseHeader(chunk, i, nl)
        if (!ok) return false
        this.head = undefined
        i = nl + 1
      }
      const available = end - i
      if (this.parts.length === 0 && available >= this.need) {
        const payload = chunk.subarray(i, i + this.need)
        i += this.need
        this.complete(payload, sink)
      } else {
        const take = Math.min(this.need, available)
        this.parts.push(Buffer.from(chunk.subarray(i, i + take)))
        this.need -= take
        i += take
        if (this.need === 0) {
          const payload = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts)
          this.parts = []
          this.complete(payload, sink)
        }
      }
    }
    return true
  }

  private complete(payload: Buffer, sink: FrameSink): void {
    this.need = -1
    this.position += this.frameLength
    sink(this.tag, this.ts, payload)
  }

  private parseHeader(buffer: Buffer, start: number, end: number): boolean {
    const tag = buffer[start]
    if (tag !== TAG_STDOUT && tag !== TAG_STDERR && tag !== TAG_SYSTEM && tag !== TAG_META) {
      return this.fail(`unknown frame tag 0x${(tag ?? 0).toString(16)}`)
    }
    let j = start + 1
    let ts = 0
    const tsStart = j
    for (; j < end && buffer[j] !== SPACE; j++) {
      const d = buffer[j] - 48
      if (d < 0 || d > 9) return this.fail('bad time in frame header')
      ts = ts * 10 + d
    }
    if (j === tsStart || j === end) return this.fail('bad time in frame header')
    j++
    let length = 0
    const lengthStart = j
    for (; j < end; j++) {
      const d = buffer[j] - 48
      if (d < 0 || d > 9) return this.fail('bad length in frame header')
      length = length * 10 + d
    }
    if (j === lengthStart) return this.fail('bad length in frame header')
    this.tag = tag
    this.ts = ts
    this.need = length
    this.frameLength = end - start + 1 + length
    return true
  }

  private fail(problem: string): false {
    this.error = `${problem} at byte ${this.position}`
    return false
  }
}

export function parseMeta(payload: Buffer): LogMeta | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'))
    return typeof value === 'object' && value !== null ? (value as LogMeta) : undefined
  } catch {
    return undefined
  }
}

interface PendingLine {
  parts: Buffer[]
  length: number
  /** Bytes of the line held in `parts`; less than `length` when it was only counted. */
  kept: number
  ts: number
}

/** The partial lines of stdout, stderr and system at a frame boundary, enough to resume there. */
export interface AssemblerState {
  readonly next: number
  readonly partials: readonly {readonly parts: readonly Buffer[]; readonly length: number; readonly ts: number}[]
}

export interface AssemblerOptions {
  /** Lines with `from ≤ n < to` are materialised and passed to `onLine`; the rest are only counted. */
  readonly from?: number
  readonly to?: number
  readonly onLine?: (line: LogLine) => void
  /** Keep partial lines up to this many bytes even outside the window, so `snapshot` can capture them. */
  readonly keepPartials?: number
  /** Resume mid-log, at a frame boundary where `snapshot` was taken, in a log whose first segment has this base. */
  readonly resume?: AssemblerState & {readonly firstAvailable: number}
}

/**
 * Turns frames back into lines. Each output stream has its own partial line; each `\n` completes
 * one line, numbered in completion order across streams. Lines outside the window cost one
 * `indexOf` each and are never decoded, so counting a large log stays cheap.
 */
export class LineAssembler {
  /** The number the next completed line gets; after the last frame, the total line count. */
  next = 0
  /** Base of the first segment read, undefined until its meta frame is seen. */
  firstAvailable: number | undefined
  finalized = false
  /** A marker line says output was dropped (at the cap, or by a drop_old rotation). */
  dropped = false
  /** Lines lost between segments this reader saw (drop_old rotated faster than it read). */
  skipped = 0
  private readonly from: number
  private readonly to: number
  private readonly keepPartials: number
  private readonly onLine: (line: LogLine) => void
  private readonly out: PendingLine = {parts: [], length: 0, kept: 0, ts: 0}
  private readonly err: PendingLine = {parts: [], length: 0, kept: 0, ts: 0}
  private readonly sys: PendingLine = {parts: [], length: 0, kept: 0, ts: 0}

  constructor(options: AssemblerOptions = {}) {
    this.from = options.from ?? 0
    this.to = options.to ?? Infinity
    this.keepPartials = options.keepPartials ?? 0
    this.onLine = options.onLine ?? (() => {})
    const resume = options.resume
    if (resume) {
      this.next = resume.next
      this.firstAvailable = resume.firstAvailable
      ;[this.out, this.err, this.sys].forEach((p, i) => {
        const saved = resume.partials[i]
        if (saved) Object.assign(p, {parts: [...saved.parts], length: saved.length, kept: saved.length, ts: saved.ts})
      })
    }
  }

  /** The state after the last frame, if every partial line was kept and they total at most `limit` bytes. */
  snapshot(limit: number): AssemblerState | undefined {
    const partials = [this.out, this.err, this.sys]
    let total = 0
    for (const p of partials) {
      if (p.kept !== p.length) return undefined
      total += p.length
    }
    if (total > limit) return undefined
    return {next: this.next, partials: partials.map((p) => ({parts: p.parts.slice(), length: p.length, ts: p.ts}))}
  }

  readonly frame: FrameSink = (tag, ts, payload) => {
    if (this.finalized) return
    if (tag === TAG_STDOUT) this.output(this.out, 'stdout', ts, payload)
    else if (tag === TAG_STDERR) this.output(this.err, 'stderr', ts, payload)
    else if (tag === TAG_SYSTEM) {
      if (isLossMarker(payload)) this.dropped = true
      this.output(this.sys, 'system', ts, payload)
    } else this.meta(payload)
  }

  private meta(payload: Buffer): void {
    const meta = parseMeta(payload)
    if (!meta) return
    if (typeof meta.base === 'number') {
      if (this.firstAvailable === undefined) {
        this.firstAvailable = meta.base
        this.next = meta.base
      } else if (meta.base > this.next) {
        // Whole segments went by unread: the partial lines we hold were finished in them.
        this.skipped += meta.base - this.next
        this.next = meta.base
        for (const p of [this.out, this.err, this.sys]) reset(p)
      }
    }
    if (meta.final === true) {
      this.flush(this.out, 'stdout')
      this.flush(this.err, 'stderr')
      this.flush(this.sys, 'system')
      this.finalized = true
    }
  }

  private output(p: PendingLine, stream: LogStream, ts: number, payload: Buffer): void {
    const length = payload.length
    let nl = payload.indexOf(NEWLINE)
    let start = 0
    while (nl !== -1) {
      const n = this.next++
      if (n >= this.from && n < this.to) this.emit(p, stream, ts, payload, start, nl, n)
      else if (p.length !== 0) reset(p)
      start = nl + 1
      nl = start < length ? payload.indexOf(NEWLINE, start) : -1
    }
    if (start < length) {
      if (p.length === 0) p.ts = ts
      const kept = p.kept === p.length
      p.length += length - start
      // Past the window no line will be materialised again: only count, unless a snapshot may need it.
      if (this.next < this.to || (kept && p.length <= this.keepPartials)) {
        p.parts.push(Buffer.from(payload.subarray(start)))
        p.kept += length - start
      }
    }
  }

  private emit(p: PendingLine, stream: LogStream, ts: number, payload: Buffer, start: number, end: number, n: number): void {
    let buffer = payload
    if (p.length !== 0) {
      p.parts.push(payload.subarray(start, end))
      buffer = Buffer.concat(p.parts)
      ts = p.ts
      start = 0
      end = buffer.length
      reset(p)
    }
    if (end > start && buffer[end - 1] === CR) end--
    this.onLine({n, ts, stream, text: buffer.toString('utf8', start, end)})
  }

  private flush(p: PendingLine, stream: LogStream): void {
    if (p.length === 0) return
    const n = this.next++
    if (n >= this.from && n < this.to) this.onLine({n, ts: p.ts, stream, text: Buffer.concat(p.parts).toString('utf8')})
    reset(p)
  }
}

function reset(p: PendingLine): void {
  p.parts = []
  p.length = 0
  p.kept = 0
}
