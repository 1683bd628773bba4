import type {IncomingMessage, ServerResponse} from 'node:http'

/** A client that has this much unsent data is too slow to keep: it is dropped, never waited for. */
const MAX_BUFFERED_BYTES = 1024 * 1024
/** A paced sender waits for the socket to drain once this much is unsent. */
const PACE_BYTES = 64 * 1024
const HEARTBEAT_MS = 15_000

/**
 * One server-sent events response. Writes never wait for the client: when its socket buffer
 * passes MAX_BUFFERED_BYTES the connection is closed, so a slow or stuck client cannot stall
 * the daemon or hold memory.
 */
export class SseStream {
  private closed = false
  private batch: string[] = []
  private paced = false
  private readonly heartbeat: NodeJS.Timeout
  private readonly closers: (() => void)[] = []

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    res.flushHeaders()
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS)
    this.heartbeat.unref()
    req.on('close', () => this.close())
    res.on('error', () => this.close())
  }

  /** Runs `fn` when the stream closes, whoever closes it. */
  onClose(fn: () => void): void {
    if (this.closed) fn()
    else this.closers.push(fn)
  }

  /** An event pushed to the client (a broadcast): dropped with the client if it cannot keep up. */
  send(event: string, data: string, id?: string | number): boolean {
    return this.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`)
  }

  /**
   * An event from a source the caller paces with `whenWritable` (a log read from its file): never
   * dropped for being slow — the caller stops producing instead, so at most one chunk is unsent.
   */
  sendPaced(event: string, data: string, id?: string | number): void {
    if (this.closed) return
    // From now on its writes are paced: a heartbeat or the final event must not drop it.
    this.paced = true
    // The events of one chunk of the file leave as one string in one write: the per-line strings
    // die young, and only one buffer per chunk waits for the socket (less for the GC to promote).
    if (this.batch.length === 0) process.nextTick(() => this.flushBatch())
    this.batch.push(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`)
  }

  /** Undefined while the socket takes more; else resolves once it drained (or the stream closed). */
  whenWritable(): Promise<void> | undefined {
    if (this.closed || this.res.writableLength < PACE_BYTES) return undefined
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done)
        this.res.off('close', done)
        resolve()
      }
      this.res.on('drain', done)
      this.res.on('close', done)
    })
  }

  close(): void {
    if (this.closed) return
    this.flushBatch()
    this.closed = true
    clearInterval(this.heartbeat)
    this.res.end()
    for (const fn of this.closers.splice(0)) fn()
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return
    const text = this.batch.join('')
    this.batch = []
    if (!this.closed) this.res.write(text)
  }

  private write(text: string): boolean {
    if (this.closed) return false
    // After the paced events already produced, never before them.
    this.flushBatch()
    if (!this.paced && this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.res.destroy()
      this.close()
      return false
    }
    this.res.write(text)
    return true
  }
}
