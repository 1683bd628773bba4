import {Args, Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {checkName} from '../config/units.js'
import {SchedError} from '../core/errors.js'
import {renderTable} from '../cli/table.js'
import {formatDuration, msToNs} from '../core/duration.js'
import {FAILURE_REASONS} from '../core/types.js'
import {type PublicRun, type RunRecord, publicRun} from '../state/run-record.js'
import {queryRuns} from '../state/run-query.js'
import {RunStore} from '../state/runs.js'

export default class Runs extends SchedCommand {
  static summary = 'Show run history, newest first.'
  static description =
    'Reads the state directory — or, with [cluster], the cluster database: every node\'s runs, with the node that ran each; needs no daemon. --status takes a phase (pending, running, ended) or an end reason (success, failed, timeout, …).'
  static examples = [
    {command: '<%= config.bin %> runs', description: 'The 20 newest runs of every unit.'},
    {command: '<%= config.bin %> runs backup --status failed --limit 5', description: 'The last five failures of one task.'},
    {command: "<%= config.bin %> runs --json | jq '.[0].id'", description: 'Data for scripts.'},
  ]

  static args = {
    task: Args.string({required: false, description: 'Only runs of this task or service.'}),
  }

  static flags = {
    status: Flags.string({char: 's', summary: 'Only runs in this phase or with this end reason.'}),
    'triggered-by': Flags.string({summary: 'Only runs from this source (cron, catch_up, startup, api, cli, service).'}),
    limit: Flags.integer({char: 'n', summary: 'How many runs to show.', default: 20, min: 1, max: 10_000}),
  }

  /** --json: the runs as an array of records. */
  static enableJsonFlag = true

  async run(): Promise<PublicRun[]> {
    const {args, flags} = await this.parse(Runs)
    const {config, layout} = this.readContext(flags.config, flags['state-dir'])
    // The task becomes a path under the state dir: one that cannot be a unit name (../x) is unknown.
    if (args.task !== undefined && checkName(args.task) !== undefined) throw new SchedError(`no task or service named "${args.task}"`, {exit: ExitCode.notFound})
    const query = {task: args.task, status: flags.status, triggered_by: flags['triggered-by'], limit: flags.limit}
    let page: {runs: (RunRecord & {node?: string | null})[]; next: string | null}
    if (config?.cluster) {
      const url = config.cluster.url
      const [{withConnection}, {queryClusterRuns}] = await Promise.all([import('../cluster/db.js'), import('../cluster/runs.js')])
      page = await withConnection(url, (sql) => queryClusterRuns(sql, query))
    } else {
      const store = new RunStore(layout)
      page = await queryRuns(args.task ? store.newest(args.task) : store.newestAll(), query, (e) => store.read(e), false)
    }
    const runs = page.runs.map(publicRun)
    if (this.jsonEnabled()) return runs
    if (page.runs.length === 0) {
      this.logToStderr('no runs')
      return runs
    }
    const c = this.out()
    const rows = page.runs.map((r) => {
      const state = r.status === 'ended' ? r.end_reason! : r.status
      const colour = state === 'success' ? c.green : r.status !== 'ended' ? c.cyan : (FAILURE_REASONS as readonly string[]).includes(state) ? c.red : c.yellow
      return [
        r.id,
        r.task_name + (r.instance_index !== null ? `#${r.instance_index}` : ''),
        colour(state),
        r.triggered_by + (r.retry_attempt ? ` (retry ${r.retry_attempt})` : ''),
        (r.started_at ?? r.created_at).replace('T', ' ').slice(0, 19),
        r.duration_ms === null ? '' : formatDuration(msToNs(r.duration_ms)),
        r.exit_code === null ? (r.signal ?? '') : String(r.exit_code),
        ...(config?.cluster ? [r.node ?? ''] : []),
        r.message ?? '',
      ]
    })
    const node = config?.cluster ? ['NODE'] : []
    this.log(renderTable(['ID', 'TASK', 'STATUS', 'TRIGGER', 'STARTED (UTC)', 'DURATION', 'EXIT', ...node, 'MESSAGE'], rows))
    if (page.next) this.logToStderr(c.dim('more runs: use --limit, or --json | jq'))
    return runs
  }
}
