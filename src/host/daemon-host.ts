import type {Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Access} from '../api/access/access.js'
import {DashboardAssets} from '../api/dashboard/assets.js'
import {apiRoutes} from '../api/routes.js'
import {LogProxy} from '../api/log-proxy.js'
import {createApiServer} from '../api/server.js'
import type {Config} from '../config/load.js'
import {systemClock} from '../core/clock.js'
import {ExitCode, SchedError, errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import {Daemon} from '../engine/daemon.js'
import {SpawnerLauncher} from '../engine/runner/spawner-launcher.js'
import {daemonSource} from '../notify/daemon-source.js'
import {Notifications} from '../notify/notifications.js'
import {type StateClaim, claimStateDir} from '../state/claim.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import {RequestWatcher} from '../state/requests.js'
import {signInUrl} from '../state/sign-in-ticket.js'
import {ensureToken} from '../state/token.js'
import type {ClusterLink} from '../cluster/cluster-link.js'
import {handleRequest} from './request-handler.js'

export interface HostOptions {
  readonly config: Config
  readonly layout: StateLayout
  readonly logger: Logger
  /** Where to listen; undefined = no API (`--no-api`). */
  readonly listen?: {readonly host: string; readonly port: number}
}

export interface HostInfo {
  readonly url?: string
  readonly stateDir: string
  readonly configPath: string
  readonly tokenSource?: string
  /** The dashboard's one-time sign-in link (never the token itself). */
  readonly signInUrl?: string
}

/**
 * `sched serve` as a process: claims the state directory, boots the engine, then opens the
 * API — and undoes it in reverse. The engine knows nothing of HTTP or of the claim.
 */
export class DaemonHost {
  private server?: Server
  private requests?: RequestWatcher

  private constructor(
    private readonly options: HostOptions,
    private readonly claim: StateClaim,
    readonly daemon: Daemon,
    private readonly launcher: SpawnerLauncher,
    readonly notifications: Notifications,
    private readonly cluster?: ClusterLink,
  ) {}

  static async start(options: HostOptions): Promise<{host: DaemonHost; info: HostInfo}> {
    const {config, layout, logger} = options
    const claim = await claimStateDir(layout, {mode: 'serve', config_path: config.path})
    let daemon: Daemon | undefined
    let cluster: ClusterLink | undefined
    try {
      // Runs of dead nodes this node ended `crashed` are told like any run's end (metrics, notifications).
      const reaped = (r: readonly {crashed: readonly RunRecord[]}[]) => r.flatMap((n) => n.crashed).forEach((run) => daemon?.owner.emit('run.ended', run))
      // Loaded only for a cluster: the database client costs a daemon on its own memory and start-up.
      if (config.cluster) cluster = await (await import('./cluster-join.js')).joinAsNode(config.cluster, config, {layout, clock: systemClock, logger, reaped})
    } catch (error) {
      claim.release()
      throw error
    }
    const launcher = new SpawnerLauncher({daemonEnv: process.env})
    daemon = new Daemon({config, layout, clock: systemClock, logger, launcher, startedAt: Date.parse(claim.info.started_at), cluster})
    const notifications = new Notifications({source: daemonSource(daemon), layout, clock: systemClock, logger})
    const host = new DaemonHost(options, claim, daemon, launcher, notifications, cluster)
    try {
      // Listening first: runs that crashed with the last daemon and missed ticks are told at boot.
      notifications.start()
      await daemon.start()
      host.requests = new RequestWatcher(layout, (request) => handleRequest({daemon, notifications}, request), (message) => logger.error('requests.error', {message}))
      host.requests.start()
      let url: string | undefined
      let tokenSource: string | undefined
      let link: string | undefined
      if (options.listen) {
        const {token, source} = ensureToken(layout)
        tokenSource = source
        url = await host.listen(options.listen.host, options.listen.port, token)
        claim.update({url})
        link = signInUrl(url, token, systemClock.now())
      }
      return {host, info: {url, stateDir: layout.root, configPath: config.path, tokenSource, signInUrl: link}}
    } catch (error) {
      await host.stop()
      throw error
    }
  }

  private listen(host: string, port: number, token: string): Promise<string> {
    const access = new Access(token, systemClock.now)
    const cluster = this.daemon.cluster
    const proxy = cluster && new LogProxy({me: cluster.node, token, locate: (node) => cluster.nodeAddress(node)})
    const routes = apiRoutes(this.daemon, this.options.layout, access, DashboardAssets.load(), this.notifications, proxy)
    const server = createApiServer({routes, access, logger: this.options.logger})
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const hint = error.code === 'EADDRINUSE' ? 'another process listens there; pass --port (0 picks a free one) or set [daemon] port' : undefined
        reject(new SchedError(`cannot listen on ${host}:${port}: ${errorMessage(error)}`, {exit: ExitCode.failure, hint}))
      })
      server.listen(port, host, () => {
        const address = server.address() as AddressInfo
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
        resolve(`http://${shown}:${address.port}`)
      })
    })
  }

  async stop(): Promise<void> {
    this.requests?.stop()
    const server = this.server
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
    await this.daemon.stop()
    await this.notifications.stop()
    await this.launcher.close()
    await this.cluster?.stop()
    this.claim.release()
  }
}
