import type {Daemon} from '../engine/daemon.js'
import {HttpProblem} from './problem.js'
import type {Route} from './router.js'
import {sendJsonText} from './server.js'

/** The route table. The census test walks it to prove every /api route demands the token. */
export function apiRoutes(daemon: Daemon): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      auth: false,
      handler: (_req, res) => {
        res.writeHead(200, {'content-type': 'text/plain'})
        res.end('ok\n')
      },
    },
    {
      method: 'GET',
      path: '/api/tasks',
      auth: true,
      handler: (_req, res) => sendJsonText(res, 200, daemon.tasksJson()),
    },
    {
      method: 'GET',
      path: '/api/tasks/:name',
      auth: true,
      handler: (req, res) => {
        const body = daemon.taskJson(req.params.name)
        if (body === undefined) throw new HttpProblem(404, `no task or service named "${req.params.name}"`, [{location: 'path.name', message: 'unknown unit', value: req.params.name}])
        sendJsonText(res, 200, body)
      },
    },
  ]
}
