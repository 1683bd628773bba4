import {Args, Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {checkName} from '../config/units.js'
import {SchedError} from '../core/errors.js'
import {ULID_PATTERN} from '../core/ulid.js'
import type {LogLine} from '../logs/format.js'
import type {StateLayout} from '../state/layout.js'
import {DaemonApi} from '../cli/daemon-api.js'
import {ClusterLogs, type LogSource, type LoggedRun, StateDirLogs} from '../cli/log-sources.js'
import type {Config} from '../config/load.js'

const PAGE = 10_000
const NEXT_RUN_POLL_MS = 200

export default class Logs extends SchedCommand {
  static summary = "Show a run's output."
  static description = `Shows the log of a run, or of the newest run of a task or service. stdout lines go to stdout; stderr lines and sched's own lines go to stderr. Reads the state directory; needs no daemon.

With [cluster], the run is found in the cluster database (a run of any node). A log on this node's disk is read here; another node's is read through this node's daemon, which fetches it from the node that ran the run (exit 4 without a daemon here).

With -f it follows the run until it ends; for a service it then follows the next run of the same instance, across restarts, until interrupted.`
  static examples = [
    {command: '<%= config.bin %> logs backup', description: 'The newest run of backup.'},
    {command: '<%= config.bin %> logs backup -n 50 -f', description: 'The last 50 lines, then follow.'},
    {command: '<%= config.bin %> logs 01JD5V7Q8M4Z6E8XK2R9T3W1YC --json', description: 'One run as NDJSON {n, ts, stream, text}.'},
  ]

  static args = {
    target: Args.string({required: true, description: 'A task, a service, or a run id.'}),
  }

  static flags = {
    follow: Flags.boolean({char: 'f', summary: 'Follow until the run ends (a service: across restarts).'}),
    lines: Flags.integer({char: 'n', summary: 'Only the last N lines.', min: 0}),
  }

  /** --json: one object per line, {n, ts, stream, text} (NDJSON, streamed); an error is one {error}. */
  static enableJsonFlag = true

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    const {config, layout} = this.readContext(flags.config, flags['state-dir'])
    const json = this.jsonEnabled()
    const print = (line: LogLine) => {
      if (json) process.stdout.write(`${JSON.stringify(line)}\n`)
      else (line.stream === 'stdout' ? process.stdout : process.stderr).write(`${line.text}\n`)
    }
    const show = (source: LogSource) => this.show(source, config, args.target, flags, print)
    if (!config?.cluster) return show(new StateDirLogs(layout))
    await clusterLogs(config.cluster.url, layout, show)
  }

  private async show(source: LogSource, config: Config | undefined, target: string, flags: {follow: boolean; lines?: number}, print: (line: LogLine) => void): Promise<void> {
    const isId = ULID_PATTERN.test(target)
    // The target becomes a path under the state dir: one that cannot be a unit name (../x) is unknown.
    if (!isId && checkName(target) !== undefined) throw new SchedError(`no task, service or run named "${target}"`, {exit: ExitCode.notFound})
    let run = isId ? await source.find(target) : await source.latest(target)
    if (!run) {
      const known = config?.units.some((u) => u.name === target) || (await source.hasRuns(target))
      if (isId || !known) throw new SchedError(`no task, service or run named "${target}"`, {exit: ExitCode.notFound})
      if (!flags.follow) {
        this.logToStderr(`${target} has no runs yet`)
        return
      }
      run = await waitFor(() => source.latest(target))
    }

    // -n 0 shows no old lines (as tail -n 0); -0 would be line 0, the whole log.
    const from = flags.lines === undefined ? 0 : flags.lines === 0 ? (await source.page(run, -1, 1)).total_lines : -flags.lines
    if (!flags.follow) {
      await printAll(source, run, from, print)
      return
    }
    process.once('SIGINT', () => process.exit(0))
    await source.follow(run, from, print)
    if (run.kind !== 'service') return
    // A service instance that ended is followed by its slot's next run, restart after restart.
    for (let current: LoggedRun = run; ; ) {
      const after = current.id
      current = await waitFor(() => source.nextOfInstance(run.unit, after, run.instance))
      this.logToStderr(`--- ${run.unit}#${run.instance} restarted: run ${current.id}`)
      await source.follow(current, 0, print)
    }
  }
}

/**
 * In a cluster the runs are in the cluster database and a log may be on any node: one on this
 * node's disk is read here, another through this node's daemon (it forwards to the node that ran
 * the run), so that needs one.
 */
async function clusterLogs(url: string, layout: StateLayout, show: (source: LogSource) => Promise<void>): Promise<void> {
  let api: DaemonApi | undefined
  const daemon = () => (api ??= DaemonApi.connect(layout, "a log on another node is read through this node's daemon, which reaches the node that ran the run"))
  const {withConnection} = await import('../cluster/db.js')
  await withConnection(url, (sql) => show(new ClusterLogs(sql, layout, daemon)))
}

async function printAll(source: LogSource, run: LoggedRun, from: number, print: (line: LogLine) => void): Promise<void> {
  let next = from
  for (;;) {
    const page = await source.page(run, next, PAGE)
    for (const line of page.lines) print(line)
    if (page.lines.length < PAGE) return
    next = page.lines.at(-1)!.n + 1
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, NEXT_RUN_POLL_MS))
  }
}
