import {EVERY_FROM_DAEMON, upcomingTicks} from '../../cron/upcoming.js'
import type {Daemon} from '../../engine/daemon.js'
import {HttpProblem} from '../problem.js'
import type {Route} from '../router.js'
import {sendJson} from '../server.js'

const MAX_COUNT = 100

/** GET /api/tasks/{name}/next?count=5: what `sched next --json` prints, from the daemon's own config. */
export function nextRoutes(daemon: Daemon): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/tasks/:name/next',
      auth: true,
      handler: (req, res) => {
        const name = req.params.name
        const unit = daemon.unit(name)
        if (!unit) throw new HttpProblem(404, `no task or service named "${name}"`, [{location: 'path.name', message: 'unknown unit', value: name}])
        const spec = daemon.config.schedules.get(name)
        if (!spec) throw new HttpProblem(409, `${unit.kind} "${name}" has no schedule${unit.kind === 'task' ? ' (it runs only when triggered)' : ''}`)
        const countText = req.query.get('count')
        const count = countText === null ? 5 : Number(countText)
        if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
          throw new HttpProblem(400, `count must be an integer from 1 to ${MAX_COUNT}`, [{location: 'query.count', message: 'out of range', value: countText}])
        }
        sendJson(res, 200, upcomingTicks(spec, {zone: unit.timezone, now: daemon.now(), count, every: {anchor: daemon.startedAt, note: EVERY_FROM_DAEMON}}))
      },
    },
  ]
}
