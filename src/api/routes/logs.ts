import type {ServerResponse} from 'node:http'
import {existsSync} from 'node:fs'
import type {Daemon} from '../../engine/daemon.js'
import type {StateLayout} from '../../state/layout.js'
import {DEFAULT_FROM, DEFAULT_LIMIT, MAX_LIMIT, followLog, rawLogStream, readLogPage} from '../../logs/reader.js'
import type {RunRecord} from '../../state/run-record.js'
import {logHolder, logProblem, unreachableAs503} from '../cluster-problem.js'
import {LogProxy} from '../log-proxy.js'
import {HttpProblem} from '../problem.js'
import type {ApiRequest, Route} from '../router.js'
import {sendJson} from '../server.js'
import {SseStream} from '../sse.js'

const DONE_WAIT_MS = 10_000

/**
 * A run's log: pages of lines, the raw text, and a live SSE stream; plus the daemon's event
 * stream. In a cluster a log on another node's disk is forwarded there by `proxy`.
 */
export function logRoutes(daemon: Daemon, layout: StateLayout, proxy?: LogProxy): Route[] {
  /** The run whose log this node serves; undefined when the answer came from the node that holds it. */
  const runOf = async (req: ApiRequest, res: ServerResponse): Promise<RunRecord | undefined> => {
    const run = await unreachableAs503(daemon.view.record(req.params.id))
    if (!run) throw new HttpProblem(404, `no run ${req.params.id}`, [{location: 'path.id', message: 'unknown run', value: req.params.id}])
    const holder = daemon.cluster && logHolder(run, daemon.cluster.node, LogProxy.isProxied(req.raw))
    if (!holder) return run
    if (!proxy) throw new Error('a cluster node serves its API with a log proxy')
    const refusal = await unreachableAs503(proxy.forward(req.raw, res, holder))
    if (refusal) throw logProblem(run.id, holder, refusal)
    return undefined
  }
  const logPath = (run: RunRecord) => layout.logFile(run.task_name, run.id)

  return [
    {
      method: 'GET',
      path: '/api/runs/:id/log',
      auth: true,
      handler: async (req, res) => {
        const run = await runOf(req, res)
        if (!run) return
        const from = integer(req, 'from', DEFAULT_FROM, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
        const limit = integer(req, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT)
        const page = await readLogPage(logPath(run), {from, limit})
        sendJson(res, 200, {...page, finalized: page.finalized || (run.status === 'ended' && !existsSync(logPath(run)))})
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id/log/raw',
      auth: true,
      handler: async (req, res) => {
        const run = await runOf(req, res)
        if (!run) return
        res.writeHead(200, {'content-type': 'text/plain; charset=utf-8'})
        const stream = rawLogStream(logPath(run))
        stream.on('error', () => res.destroy())
        req.raw.on('close', () => stream.destroy())
        stream.pipe(res)
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id/log/stream',
      auth: true,
      handler: async (req, res) => {
        const run = await runOf(req, res)
        if (!run) return
        // A reconnecting client resumes after the last line it saw.
        const lastId = req.raw.headers['last-event-id']
        const from = typeof lastId === 'string' && /^\d+$/.test(lastId) ? Number(lastId) + 1 : integer(req, 'from', 0, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
        const sse = new SseStream(req.raw, res)
        let lastLine = from - 1
        const done = async () => {
          // The log is closed a moment before the run's record ends: `done` carries the final record.
          await daemon.view.waitForEnd(run.id, DONE_WAIT_MS)
          const final = (await daemon.view.record(run.id)) ?? run
          sse.send('done', JSON.stringify({final_line: lastLine, status: final.status, end_reason: final.end_reason, exit_code: final.exit_code}))
          sse.close()
        }
        // A run that never started has no log to wait for.
        if (run.status === 'ended' && !existsSync(logPath(run))) {
          await done()
          return
        }
        const follower = followLog(
          logPath(run),
          from,
          (line) => {
            lastLine = line.n
            sse.sendPaced('line', JSON.stringify(line), line.n)
          },
          () => void done(),
          // Replay and live tail come from the file at the client's pace: a long finished log is
          // never pushed faster than the socket takes it, and the tail follows the same cursor.
          {pace: () => sse.whenWritable()},
        )
        sse.onClose(() => follower.close())
        // A queued run removed before it started ends without ever writing a log.
        const unsubscribe = daemon.view.onRunEnded(run.id, () => {
          if (!existsSync(logPath(run))) void done()
        })
        sse.onClose(unsubscribe)
      },
    },
    {
      method: 'GET',
      path: '/api/events',
      auth: true,
      handler: (req, res) => {
        const sse = new SseStream(req.raw, res)
        const unsubscribe = daemon.view.onEvent((event, data) => sse.send(event, JSON.stringify(data)))
        sse.onClose(unsubscribe)
      },
    },
  ]
}

function integer(req: ApiRequest, key: string, dflt: number, min: number, max: number): number {
  const raw = req.query.get(key)
  if (raw === null || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpProblem(400, `${key} must be an integer${min > -Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ''}`, [{location: `query.${key}`, message: 'invalid', value: raw}])
  }
  return n
}
