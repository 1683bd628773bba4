/**
 * The CLI as one module. esbuild bundles it (with oclif) into dist/index.js, and oclif finds the
 * commands here (the "explicit" strategy): one file to load instead of some two hundred, which
 * is most of a command's start-up time and a tenth of the daemon's memory.
 */
import ClusterStatus from './commands/cluster/status.js'
import Completion from './commands/completion.js'
import ImportCompose from './commands/import/compose.js'
import ImportCrontab from './commands/import/crontab.js'
import ImportSupervisord from './commands/import/supervisord.js'
import Init from './commands/init.js'
import List from './commands/list.js'
import Logs from './commands/logs.js'
import Next from './commands/next.js'
import NotifyTest from './commands/notify/test.js'
import Reload from './commands/reload.js'
import Restart from './commands/restart.js'
import Runs from './commands/runs.js'
import Serve from './commands/serve.js'
import ServiceInstall from './commands/service/install.js'
import ServiceStatus from './commands/service/status.js'
import ServiceUninstall from './commands/service/uninstall.js'
import Start from './commands/start.js'
import Status from './commands/status.js'
import Stop from './commands/stop.js'
import Trigger from './commands/trigger.js'
import Validate from './commands/validate.js'

export {execute} from '@oclif/core'

export const COMMANDS = {
  'cluster:status': ClusterStatus,
  completion: Completion,
  'import:compose': ImportCompose,
  'import:crontab': ImportCrontab,
  'import:supervisord': ImportSupervisord,
  init: Init,
  list: List,
  logs: Logs,
  next: Next,
  'notify:test': NotifyTest,
  reload: Reload,
  restart: Restart,
  runs: Runs,
  serve: Serve,
  'service:install': ServiceInstall,
  'service:status': ServiceStatus,
  'service:uninstall': ServiceUninstall,
  start: Start,
  status: Status,
  stop: Stop,
  trigger: Trigger,
  validate: Validate,
}
