import type {Daemon} from '../engine/daemon.js'
import type {Notifications} from '../notify/notifications.js'
import type {StateLayout} from '../state/layout.js'
import type {Access} from './access/access.js'
import type {DashboardAssets} from './dashboard/assets.js'
import type {LogProxy} from './log-proxy.js'
import type {Route} from './router.js'
import {daemonRoutes} from './routes/daemon.js'
import {dashboardRoutes} from './routes/dashboard.js'
import {logRoutes} from './routes/logs.js'
import {nextRoutes} from './routes/next.js'
import {notificationRoutes} from './routes/notifications.js'
import {overviewRoutes} from './routes/overview.js'
import {runRoutes} from './routes/runs.js'
import {sessionRoutes} from './routes/session.js'
import {taskRoutes} from './routes/tasks.js'

/** The route table (`logProxy`: a cluster node's way to another node's logs). The census test walks it to prove every /api route demands credentials. */
export function apiRoutes(daemon: Daemon, layout: StateLayout, access: Access, dashboard: DashboardAssets, notifications: Notifications, logProxy?: LogProxy): Route[] {
  return [
    ...daemonRoutes(daemon, () => notifications.metricsText()),
    ...taskRoutes(daemon),
    ...runRoutes(daemon),
    ...logRoutes(daemon, layout, logProxy),
    ...sessionRoutes(access),
    ...overviewRoutes(daemon),
    ...nextRoutes(daemon),
    ...notificationRoutes(notifications),
    ...dashboardRoutes(dashboard),
  ]
}
