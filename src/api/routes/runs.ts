import type {Daemon} from '../../engine/daemon.js'
import {SchedError} from '../../core/errors.js'
import {publicRun} from '../../state/run-record.js'
import {type RunQuery, newestFirst, queryRuns} from '../../state/run-query.js'
import {unreachableAs503} from '../cluster-problem.js'
import {pageLimit} from '../page-limit.js'
import {HttpProblem} from '../problem.js'
import {REFUSAL_STATUS} from '../refusal-status.js'
import type {ApiRequest, Route} from '../router.js'
import {sendJson} from '../server.js'

/** /api/runs: history newest first, one run, stopping a run. */
export function runRoutes(daemon: Daemon): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/runs',
      auth: true,
      handler: async (req, res) => {
        let page
        try {
          // In a cluster every node's runs are in the database: any node lists them all.
          const q = runQuery(req)
          page = daemon.cluster ? await unreachableAs503(daemon.cluster.queryRuns(q)) : await queryRuns(newestFirst(daemon.view.entries()), q, (e) => daemon.view.record(e.id))
        } catch (error) {
          if (error instanceof SchedError) throw new HttpProblem(400, error.message, [{location: 'query', message: error.hint ?? error.message}])
          throw error
        }
        sendJson(res, 200, {runs: page.runs.map(publicRun), total: page.total, next: page.next})
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id',
      auth: true,
      handler: async (req, res) => {
        const run = await unreachableAs503(daemon.view.record(req.params.id))
        if (!run) throw new HttpProblem(404, `no run ${req.params.id}`, [{location: 'path.id', message: 'unknown run', value: req.params.id}])
        sendJson(res, 200, publicRun(run))
      },
    },
    {
      method: 'POST',
      path: '/api/runs/:id/stop',
      auth: true,
      handler: async (req, res) => {
        const result = await daemon.control.stopRun(req.params.id)
        if (!result.ok) throw new HttpProblem(REFUSAL_STATUS[result.refusal], result.message)
        sendJson(res, 200, result)
      },
    },
  ]
}

function runQuery(req: ApiRequest): RunQuery {
  const q = req.query
  const limit = pageLimit(q)
  const value = (key: string) => q.get(key) || undefined
  return {task: value('task_name'), status: value('status'), triggered_by: value('triggered_by'), before: value('before'), limit}
}
