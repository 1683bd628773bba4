import type {IncomingMessage, ServerResponse} from 'node:http'

/** A client that has this much unsent data is too slow to keep: it is dropped, never waited for. */
const MAX_BUFFERED_BYTES = 1024 * 1024
const HEARTBEAT_MS = 15_000

/**
 * One server-sent events response. Writes never wait for the client: when its socket buffer
 * passes MAX_BUFFERED_BYTES the connection is closed, so a slow or stuck client cannot stall
 * the daemon or hold memory.
 */
export class SseStream {
  private closed = false
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

  send(event: string, data: string, id?: string | number): boolean {
    return this.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.heartbeat)
    this.res.end()
    for (const fn of this.closers.splice(0)) fn()
  }

  private write(text: string): boolean {
    if (this.closed) return false
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.res.destroy()
      this.close()
      return false
    }
    this.res.write(text)
    return true
  }
}
