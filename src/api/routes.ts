import type {Daemon} from '../engine/daemon.js'
import type {Notifications} from '../notify/notifications.js'
import type {StateLayout} from '../state/layout.js'
import type {Route} from './router.js'
import {daemonRoutes} from './routes/daemon.js'
import {logRoutes} from './routes/logs.js'
import {notificationRoutes} from './routes/notifications.js'
import {runRoutes} from './routes/runs.js'
import {taskRoutes} from './routes/tasks.js'

/** The route table. The census test walks it to prove every /api route demands the token. */
export function apiRoutes(daemon: Daemon, layout: StateLayout, notifications: Notifications): Route[] {
  return [...daemonRoutes(daemon, () => notifications.metricsText()), ...taskRoutes(daemon), ...runRoutes(daemon), ...logRoutes(daemon, layout), ...notificationRoutes(notifications)]
}
