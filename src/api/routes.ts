import type {Daemon} from '../engine/daemon.js'
import type {StateLayout} from '../state/layout.js'
import type {Route} from './router.js'
import {daemonRoutes} from './routes/daemon.js'
import {logRoutes} from './routes/logs.js'
import {runRoutes} from './routes/runs.js'
import {taskRoutes} from './routes/tasks.js'

/** The route table. The census test walks it to prove every /api route demands the token. */
export function apiRoutes(daemon: Daemon, layout: StateLayout): Route[] {
  return [...daemonRoutes(daemon), ...taskRoutes(daemon), ...runRoutes(daemon), ...logRoutes(daemon, layout)]
}
