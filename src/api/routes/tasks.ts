import type {SuppliedParams} from '../../config/parameters.js'
import {isTable} from '../../config/values.js'
import {parseDuration} from '../../core/duration.js'
import type {Daemon} from '../../engine/daemon.js'
import {publicRun} from '../../state/run-record.js'
import {notStarted} from '../../engine/outcomes.js'
import {HttpProblem} from '../problem.js'
import {TaskBodies} from '../task-bodies.js'
import {REFUSAL_STATUS} from '../refusal-status.js'
import type {Route} from '../router.js'
import {sendJson, sendJsonBody, sendJsonText} from '../server.js'

/** /api/tasks: the units, their state, and what can be done to them. */
export function taskRoutes(daemon: Daemon): Route[] {
  const bodies = new TaskBodies(daemon)
  return [
    {
      method: 'GET',
      path: '/api/tasks',
      auth: true,
      handler: (_req, res) => sendJsonBody(res, 200, bodies.all()),
    },
    {
      method: 'GET',
      path: '/api/tasks/:name',
      auth: true,
      handler: async (req, res) => {
        const body = await bodies.one(req.params.name)
        if (body === undefined) throw new HttpProblem(404, `no task or service named "${req.params.name}"`, [{location: 'path.name', message: 'unknown unit', value: req.params.name}])
        sendJsonText(res, 200, body)
      },
    },
    {
      method: 'POST',
      path: '/api/tasks/:name/run',
      auth: true,
      handler: async (req, res) => {
        // Checked before the trigger: a 400 must not leave a run behind.
        const wait = req.query.get('wait') === 'true' ? waitTimeout(req.query.get('wait_timeout')) : undefined
        const result = await daemon.owner.trigger({unit: req.params.name, source: 'api', params: readParams(await req.body())})
        if (!result.ok) {
          const status = REFUSAL_STATUS[result.refusal]
          const errors = result.problems?.map((p) => ({location: `body.params.${p.key}`, message: p.message, value: p.value}))
          throw new HttpProblem(status, result.message, errors)
        }
        if (notStarted(result.outcome)) {
          throw new HttpProblem(409, `run not started: ${result.run.message}`, undefined, {}, {run: publicRun(result.run)})
        }
        let run = result.run
        if (wait !== undefined) {
          await daemon.view.waitForEnd(run.id, wait)
          run = (await daemon.view.record(run.id)) ?? run
        }
        sendJson(res, 201, publicRun(run))
      },
    },
    ...(['stop', 'start', 'restart'] as const).map(
      (action): Route => ({
        method: 'POST',
        path: `/api/tasks/:name/${action}`,
        auth: true,
        handler: async (req, res) => {
          const name = req.params.name
          const result = action === 'stop' ? await daemon.control.stopUnit(name) : action === 'start' ? daemon.control.start(name) : await daemon.control.restart(name)
          if (!result.ok) throw new HttpProblem(REFUSAL_STATUS[result.refusal], result.message)
          sendJson(res, 200, result)
        },
      }),
    ),
  ]
}

function readParams(body: unknown): SuppliedParams {
  if (body === undefined) return {}
  if (!isTable(body)) throw new HttpProblem(400, 'the body must be a JSON object such as {"params": {"key": "value"}}')
  const params = body.params ?? {}
  if (!isTable(params)) throw new HttpProblem(400, 'params must be an object', [{location: 'body.params', message: 'expected an object', value: params}])
  for (const [key, value] of Object.entries(params)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new HttpProblem(400, `parameter "${key}" must be a string, a number or a boolean`, [{location: `body.params.${key}`, message: 'expected a string, number or boolean', value}])
    }
  }
  return params as SuppliedParams
}

const MAX_WAIT_MS = 3_600_000

/** `wait_timeout` (a duration, default 60s, at most 1h): how long ?wait=true holds the request. */
function waitTimeout(raw: string | null): number {
  if (raw === null) return 60_000
  const ns = parseDuration(raw)
  if (ns === undefined) throw new HttpProblem(400, `wait_timeout "${raw}" is not a duration`, [{location: 'query.wait_timeout', message: 'expected a duration such as "30s"', value: raw}])
  return Math.min(ns / 1e6, MAX_WAIT_MS)
}
