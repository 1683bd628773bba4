import {SchedError} from '../../core/errors.js'
import type {Notifications} from '../../notify/notifications.js'
import {HttpProblem} from '../problem.js'
import type {Route} from '../router.js'
import {sendJson} from '../server.js'

const MAX_LIMIT = 1000
const DEFAULT_LIMIT = 50

/** GET /api/notifications: the notification history, newest first, paged like /api/runs. */
export function notificationRoutes(notifications: Notifications): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/notifications',
      auth: true,
      handler: (req, res) => {
        const q = req.query
        const limitText = q.get('limit')
        const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText)
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
          throw new HttpProblem(400, `limit must be an integer from 1 to ${MAX_LIMIT}`, [{location: 'query.limit', message: 'out of range', value: limitText}])
        }
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
