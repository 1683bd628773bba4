import net from 'node:net'

/**
 * A TCP proxy a test can cut: the way to take a database away from one node while the others
 * keep it. `cut()` resets every connection and refuses new ones; `restore()` lets them through
 * again on the same port.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>()
  private server?: net.Server
  port = 0

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort)
    await proxy.listen()
    return proxy
  }

  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  async cut(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.resetAndDestroy()
    this.sockets.clear()
    if (server) await new Promise((resolve) => server.close(resolve))
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen()
  }

  async close(): Promise<void> {
    await this.cut()
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost)
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('error', () => undefined)
        s.on('close', () => {
          this.sockets.delete(s)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })
  }
}
