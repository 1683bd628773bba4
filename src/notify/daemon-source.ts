import type {Daemon} from '../engine/daemon.js'
import type {NotifySource} from './notifications.js'

/**
 * The one place notifications meet the engine: its lifecycle events (RunView, the stream
 * GET /api/events serves), the config it runs, and a task's next tick.
 */
export function daemonSource(daemon: Daemon): NotifySource {
  return {
    onEvent: (listener) => daemon.view.onEvent(listener),
    get currentConfig() {
      return daemon.config
    },
    nextRunAt: (name) => {
      const unit = daemon.unit(name)
      return unit && daemon.nextRunAt(unit)
    },
  }
}
