import {type FSWatcher, watch} from 'node:fs'
import {type FileHandle, open, stat} from 'node:fs/promises'
import {basename, dirname} from 'node:path'
import {Readable} from 'node:stream'
import {type AssemblerState, FrameDecoder, type FrameSink, LineAssembler, type LogLine, TAG_META, olderSegmentPath, parseMeta} from './format.js'

/**
 * Reading run logs for the CLI and the API, straight from the files (no daemon needed). A log is
 * one segment, or two after a drop_old rotation (`<path>.1`, then `<path>`); both are read as one
 * stream of frames.
 */

export interface LogPage {
  lines: LogLine[]
  /** The first line still on disk; lines before it were dropped by drop_old. */
  first_available: number
  total_lines: number
  /** Output was lost: older output by drop_old (lines before `first_available`, or the head of the first line shown), or output dropped at the cap (drop_new, kill_task). */
  truncated: boolean
  /** The run ended and its writer closed the log: `total_lines` is final. */
  finalized: boolean
}

export interface FollowHandle {
  close(): void
}

export const DEFAULT_FROM = -1000
export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 10_000

const READ_SIZE = 256 << 10
/** How far apart counting records resume points, so a page at the end does not re-read the whole log. */
const CHECKPOINT_EVERY = 1 << 20
/** A resume point holds the partial lines of its moment; past this size, the next frame boundary is tried. */
const CHECKPOINT_PARTIALS = 4 << 10
const POLL_MS = 100

interface Segment {
  readonly fh: FileHandle
  readonly ino: number
}

/** A place to resume decoding: a frame boundary, and the assembler's state there. */
interface Checkpoint {
  readonly segment: number
  readonly offset: number
  readonly state?: AssemblerState
}

const START: Checkpoint = {segment: 0, offset: 0}

/**
 * One page of lines. `from` ≥ 0 is a line number (clamped to `first_available`), < 0 counts
 * from the end; `limit` defaults to 1000, at most 10000. A missing log is an empty page.
 */
export async function readLogPage(path: string, options: {from?: number; limit?: number} = {}): Promise<LogPage> {
  const from = Number.isFinite(options.from) ? Math.trunc(options.from as number) : DEFAULT_FROM
  const limit = Number.isFinite(options.limit) ? Math.min(MAX_LIMIT, Math.max(0, Math.trunc(options.limit as number))) : DEFAULT_LIMIT
  const segments = await openSegments(path)
  try {
    if (segments.length === 0) return {lines: [], first_available: 0, total_lines: 0, truncated: false, finalized: false}
    const lines: LogLine[] = []
    const onLine = (line: LogLine): void => {
      lines.push(line)
    }
    if (from >= 0) {
      const lo = Math.max(from, (await readBase(segments[0])) ?? 0)
      const assembler = new LineAssembler({from: lo, to: lo + limit, onLine})
      await scanAll(segments, START, assembler)
      return page(lines, assembler)
    }
    // From the end: count first (cheap: no line is decoded), then decode only the window.
    const checkpoints: Checkpoint[] = []
    const counter = new LineAssembler({from: 0, to: 0, keepPartials: CHECKPOINT_PARTIALS})
    await scanAll(segments, START, counter, checkpoints)
    const first = counter.firstAvailable ?? 0
    const lo = Math.max(first, counter.next + from)
    const hi = Math.min(counter.next, lo + limit)
    if (hi > lo) {
      const start = lastCheckpoint(checkpoints, lo)
      const assembler = new LineAssembler({from: lo, to: hi, onLine, resume: start.state && {...start.state, firstAvailable: first}})
      for await (const _ of scan(segments, start, assembler)) if (assembler.next >= hi) break
    }
    return page(lines, counter)
  } finally {
    await closeSegments(segments)
  }
}

function page(lines: LogLine[], assembler: LineAssembler): LogPage {
  const first = assembler.firstAvailable ?? 0
  return {
    lines,
    first_available: first,
    total_lines: assembler.next,
    truncated: first > 0 || assembler.dropped,
    finalized: assembler.finalized,
  }
}

/** The log as text, one `\n`-terminated line after another in line order, read chunk by chunk. */
export function rawLogStream(path: string): Readable {
  return Readable.from(rawText(path), {objectMode: false})
}

async function* rawText(path: string): AsyncGenerator<string> {
  const segments = await openSegments(path)
  try {
    let text: string[] = []
    const assembler = new LineAssembler({onLine: (line) => text.push(line.text)})
    for await (const _ of scan(segments, START, assembler)) {
      if (text.length === 0) continue
      const chunk = `${text.join('\n')}\n`
      text = []
      yield chunk
    }
  } finally {
    await closeSegments(segments)
  }
}

/**
 * Delivers every line with n ≥ `fromLine` (< 0: from the end), then lines as they are appended,
 * across drop_old rotations, until the writer's final frame: then `onEnd`, once. A log that does
 * not exist yet is waited for. `onLine` is never called after `close()`.
 */
export function followLog(path: string, fromLine: number, onLine: (line: LogLine) => void, onEnd: () => void): FollowHandle {
  return new Follower(path, fromLine, onLine, onEnd)
}

class Follower implements FollowHandle {
  private closed = false
  private ended = false
  private busy = false
  private again = false
  private assembler: LineAssembler | undefined
  private cursor: Cursor | undefined
  /** Segments opened together with the cursor's, read after it. */
  private queue: Segment[] = []
  private watcher: FSWatcher | undefined
  private readonly timer: NodeJS.Timeout
  private readonly buffer = Buffer.allocUnsafe(READ_SIZE)

  constructor(
    private readonly path: string,
    private readonly fromLine: number,
    private readonly onLine: (line: LogLine) => void,
    private readonly onEnd: () => void,
  ) {
    // fs.watch is fast but not guaranteed (network filesystems, overflowing queues): the poll is the safety net.
    this.timer = setInterval(() => this.pump(), POLL_MS)
    this.pump()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    this.watcher?.close()
    if (!this.busy) void this.release()
  }

  private readonly deliver = (line: LogLine): void => {
    if (this.closed) return
    try {
      this.onLine(line)
    } catch (error) {
      // A throwing callback is the caller's bug: stop, and let it surface instead of retrying forever.
      this.close()
      process.nextTick(() => {
        throw error
      })
    }
  }

  private pump(): void {
    if (this.closed) return
    this.watch()
    if (this.busy) {
      this.again = true
      return
    }
    this.busy = true
    void this.run()
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false
        await this.step()
      } while (this.again && !this.closed)
    } catch {
      // An unreadable log (a file replaced under us, permissions) is tried again at the next poll.
    } finally {
      this.busy = false
      if (this.closed) await this.release()
    }
  }

  private async step(): Promise<void> {
    if (this.cursor === undefined && !(await this.begin())) return
    for (;;) {
      await this.drain()
      if (this.closed) return
      if (this.assembler!.finalized) return this.end()
      const next = await this.successor()
      if (this.closed) {
        await next?.fh.close()
        return
      }
      if (this.assembler!.finalized) {
        await next?.fh.close()
        return this.end()
      }
      if (next === undefined) return
      await this.cursor!.segment.fh.close().catch(() => {})
      this.cursor = new Cursor(next)
    }
  }

  private async begin(): Promise<boolean> {
    const segments = await openSegments(this.path)
    if (segments.length === 0) return false
    // Owned by the follower from here, so that close() releases them whatever happens next.
    this.queue = segments
    try {
      let from = this.fromLine
      let start = START
      let first = 0
      if (from < 0) {
        const checkpoints: Checkpoint[] = []
        const counter = new LineAssembler({from: 0, to: 0, keepPartials: CHECKPOINT_PARTIALS})
        await scanAll(segments, START, counter, checkpoints)
        first = counter.firstAvailable ?? 0
        from = Math.max(first, counter.next + from)
        start = lastCheckpoint(checkpoints, from)
      }
      this.assembler = new LineAssembler({from, onLine: this.deliver, resume: start.state && {...start.state, firstAvailable: first}})
      await closeSegments(this.queue.splice(0, start.segment))
      this.cursor = new Cursor(this.queue.shift()!, start.offset)
      return true
    } catch (error) {
      await this.release()
      throw error
    }
  }

  private async drain(): Promise<void> {
    const cursor = this.cursor!
    const assembler = this.assembler!
    while (!this.closed && !assembler.finalized && (await cursor.read(this.buffer, assembler.frame)));
  }

  /**
   * The segment after the cursor's, once `path` names another file (drop_old rotated it away):
   * the older segment if it continues ours, else the new current file — continuing at its base
   * if whole segments went by meanwhile. Undefined while the cursor's file is still the live one.
   */
  private async successor(): Promise<Segment | undefined> {
    if (this.queue.length > 0) return this.queue.shift()
    const ours = this.cursor!.segment.ino
    const ino = await inode(this.path)
    if (ino === undefined || ino === ours) return undefined
    // Frames written before the rename are complete now: finish our file first.
    await this.drain()
    if (this.assembler!.finalized) return undefined
    const olderPath = olderSegmentPath(this.path)
    for (let attempt = 0; attempt < 10; attempt++) {
      const older = await openSegment(olderPath)
      if (older !== undefined) {
        if (older.ino !== ours && ((await readBase(older)) ?? -1) >= this.assembler!.next) return older
        await older.fh.close()
      }
      const current = await openSegment(this.path)
      // A rotation between the two opens would make us skip the segment it moved to the older name.
      if (current === undefined || (await inode(olderPath)) === older?.ino) return current
      await current.fh.close()
    }
    return undefined
  }

  /**
   * Watches the directory rather than the file: one watch sees appends, the rename of a
   * rotation and the creation of the new file, and survives both.
   */
  private watch(): void {
    if (this.closed || this.watcher !== undefined) return
    const names = new Set([basename(this.path), basename(olderSegmentPath(this.path))])
    try {
      this.watcher = watch(dirname(this.path), {persistent: true}, (_event, name) => {
        if (name === null || names.has(String(name))) this.pump()
      })
      this.watcher.on('error', () => {
        this.watcher?.close()
        this.watcher = undefined
      })
    } catch {
      // No directory yet: the poll retries.
    }
  }

  private end(): void {
    if (this.ended) return
    this.ended = true
    this.close()
    this.onEnd()
  }

  private async release(): Promise<void> {
    const segments = [...this.queue, ...(this.cursor ? [this.cursor.segment] : [])]
    this.queue = []
    this.cursor = undefined
    await closeSegments(segments)
  }
}

/** Reads one segment from an offset, decoding as it goes. */
class Cursor {
  readonly decoder: FrameDecoder
  private position: number

  constructor(
    readonly segment: Segment,
    offset = 0,
  ) {
    this.decoder = new FrameDecoder(offset)
    this.position = offset
  }

  /** Reads and decodes the next chunk; false at the end of the file or of its readable frames. */
  async read(buffer: Buffer, sink: FrameSink): Promise<boolean> {
    if (this.decoder.error !== undefined) return false
    const {bytesRead} = await this.segment.fh.read(buffer, 0, buffer.length, this.position)
    if (bytesRead === 0) return false
    this.position += bytesRead
    return this.decoder.push(buffer.subarray(0, bytesRead), sink)
  }
}

/** Feeds the segments to `assembler` from `start`, yielding after each chunk read. */
async function* scan(segments: readonly Segment[], start: Checkpoint, assembler: LineAssembler, checkpoints?: Checkpoint[]): AsyncGenerator<void> {
  const buffer = Buffer.allocUnsafe(READ_SIZE)
  for (let i = start.segment; i < segments.length; i++) {
    const cursor = new Cursor(segments[i], i === start.segment ? start.offset : 0)
    let marked = cursor.decoder.position
    const sink: FrameSink =
      checkpoints === undefined
        ? assembler.frame
        : (tag, ts, payload) => {
            assembler.frame(tag, ts, payload)
            const at = cursor.decoder.position
            if (at - marked < CHECKPOINT_EVERY) return
            const state = assembler.snapshot(CHECKPOINT_PARTIALS)
            if (state === undefined) return
            marked = at
            checkpoints.push({segment: i, offset: at, state})
          }
    while (await cursor.read(buffer, sink)) yield
  }
}

async function scanAll(segments: readonly Segment[], start: Checkpoint, assembler: LineAssembler, checkpoints?: Checkpoint[]): Promise<void> {
  for await (const _ of scan(segments, start, assembler, checkpoints));
}

/** The last resume point before line `line` completes. */
function lastCheckpoint(checkpoints: readonly Checkpoint[], line: number): Checkpoint {
  for (let i = checkpoints.length - 1; i >= 0; i--) if ((checkpoints[i].state?.next ?? 0) <= line) return checkpoints[i]
  return START
}

/**
 * Opens `<path>.1` and `<path>` as a consistent pair. A drop_old rotation between the two opens
 * would pair the wrong files, so the older name is checked again afterwards: unchanged means no
 * rename happened in between.
 */
async function openSegments(path: string): Promise<Segment[]> {
  const olderPath = olderSegmentPath(path)
  for (let attempt = 1; ; attempt++) {
    const older = await openSegment(olderPath)
    const current = await openSegment(path).catch(async (error: unknown) => {
      await older?.fh.close()
      throw error
    })
    const segments = [older, current].filter((s): s is Segment => s !== undefined)
    if (segments.length === 0) return []
    const consistent = current !== undefined && (await inode(olderPath)) === older?.ino
    if (consistent || attempt === 10) return segments
    await closeSegments(segments)
    await new Promise((resolve) => setTimeout(resolve, attempt))
  }
}

async function openSegment(path: string): Promise<Segment | undefined> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    return {fh, ino: (await fh.stat()).ino}
  } catch (error) {
    await fh.close()
    throw error
  }
}

async function inode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino
  } catch {
    return undefined
  }
}

/** The base of a segment, from its first frame; undefined while the writer has not written it. */
async function readBase(segment: Segment): Promise<number | undefined> {
  const buffer = Buffer.alloc(128)
  const {bytesRead} = await segment.fh.read(buffer, 0, buffer.length, 0)
  let base: number | undefined
  let first = true
  new FrameDecoder().push(buffer.subarray(0, bytesRead), (tag, _ts, payload) => {
    if (first && tag === TAG_META) {
      const value = parseMeta(payload)?.base
      if (typeof value === 'number') base = value
    }
    first = false
  })
  return base
}

async function closeSegments(segments: readonly Segment[]): Promise<void> {
  await Promise.all(segments.map((s) => s.fh.close().catch(() => {})))
}
