import {VERSION} from '../../core/version.js'
import type {Daemon} from '../../engine/daemon.js'
import {metricsText} from '../metrics-text.js'
import {HttpProblem} from '../problem.js'
import {REFUSAL_STATUS} from '../refusal-status.js'
import type {Route} from '../router.js'
import {sendJson} from '../server.js'

/** Liveness, the daemon itself, reload, and metrics (the engine's, then `moreMetrics`). */
export function daemonRoutes(daemon: Daemon, moreMetrics: () => string): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      auth: false,
      handler: (_req, res) => {
        // A cluster node that cannot reach the database (or lost its name) claims no work: unhealthy.
        const healthy = daemon.cluster?.healthy ?? true
        res.writeHead(healthy ? 200 : 503, {'content-type': 'text/plain'})
        res.end(healthy ? 'ok\n' : `unhealthy: cluster node ${daemon.cluster!.node} cannot reach the cluster database (or its name was taken over)\n`)
      },
    },
    {
      method: 'GET',
      path: '/api/daemon',
      auth: true,
      handler: async (_req, res) => {
        const config = daemon.config
        sendJson(res, 200, {
          version: VERSION,
          pid: process.pid,
          started_at: new Date(daemon.startedAt).toISOString(),
          config_path: config.path,
          state_dir: daemon.stateDir,
          timezone: config.scheduler.timezone,
          config_stale: daemon.configStale(),
          ...(daemon.cluster ? {cluster: {node: daemon.cluster.node, healthy: daemon.cluster.healthy, ...(await daemon.cluster.configView())}} : {}),
        })
      },
    },
    {
      method: 'POST',
      path: '/api/daemon/reload',
      auth: true,
      handler: async (_req, res) => {
        const result = await daemon.reload()
        if (!result.ok) {
          throw new HttpProblem(
            REFUSAL_STATUS[result.refusal],
            result.message,
            (result.errors ?? []).map((e) => ({location: e.key ? `config.${e.key}` : 'config', message: `${e.line}:${e.column}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`})),
          )
        }
        sendJson(res, 200, {added: result.added, removed: result.removed, changed: result.changed})
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: true,
      handler: async (_req, res) => {
        const text = (await metricsText(daemon)) + moreMetrics()
        res.writeHead(200, {'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text)})
        res.end(text)
      },
    },
  ]
}
