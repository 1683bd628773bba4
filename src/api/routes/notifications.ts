import {SchedError} from '../../core/errors.js'
import type {Notifications} from '../../notify/notifications.js'
import {pageLimit} from '../page-limit.js'
import {HttpProblem} from '../problem.js'
import type {Route} from '../router.js'
import {sendJson} from '../server.js'

/** GET /api/notifications: the notification history, newest first, paged like /api/runs. */
export function notificationRoutes(notifications: Notifications): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/notifications',
      auth: true,
      handler: (req, res) => {
        const q = req.query
        const limit = pageLimit(q)
        const value = (key: string) => q.get(key) || undefined
        try {
          const page = notifications.list({status: value('status'), notifier: value('notifier'), event: value('event'), task: value('task_name'), before: value('before'), limit})
          sendJson(res, 200, {...page, notifications: page.notifications.map(({v: _v, ...record}) => record)})
        } catch (error) {
          if (error instanceof SchedError) throw new HttpProblem(400, error.message, [{location: 'query', message: error.hint ?? error.message}])
          throw error
        }
      },
    },
  ]
}
