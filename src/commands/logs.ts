import {Args, Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {checkName} from '../config/units.js'
import {SchedError} from '../core/errors.js'
import {ULID_PATTERN} from '../core/ulid.js'
import type {LogLine} from '../logs/format.js'
import {followLog, readLogPage} from '../logs/reader.js'
import {type RunEntry, RunStore} from '../state/runs.js'

const PAGE = 10_000
const NEXT_RUN_POLL_MS = 200

export default class Logs extends SchedCommand {
  static summary = "Show a run's output."
  static description = `Shows the log of a run, or of the newest run of a task or service. stdout lines go to stdout; stderr lines and sched's own lines go to stderr. Reads the state directory; needs no daemon.

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
    const store = new RunStore(layout)
    const json = this.jsonEnabled()
    const print = (line: LogLine) => {
      if (json) process.stdout.write(`${JSON.stringify(line)}\n`)
      else (line.stream === 'stdout' ? process.stdout : process.stderr).write(`${line.text}\n`)
    }

    const isId = ULID_PATTERN.test(args.target)
    // The target becomes a path under the state dir: one that cannot be a unit name (../x) is unknown.
    if (!isId && checkName(args.target) !== undefined) throw new SchedError(`no task, service or run named "${args.target}"`, {exit: ExitCode.notFound})
    let entry = isId ? store.findById(args.target) : store.latest(args.target)
    if (!entry) {
      const known = config?.units.some((u) => u.name === args.target) || store.units().includes(args.target)
      if (!known) throw new SchedError(`no task, service or run named "${args.target}"`, {exit: ExitCode.notFound})
      if (!flags.follow) {
        this.logToStderr(`${args.target} has no runs yet`)
        return
      }
      entry = await waitFor(() => store.latest(args.target))
    }

    // -n 0 shows no old lines (as tail -n 0); -0 would be line 0, the whole log.
    const from = flags.lines === undefined ? 0 : flags.lines === 0 ? (await readLogPage(layout.logFile(entry.unit, entry.id), {from: -1, limit: 0})).total_lines : -flags.lines
    if (!flags.follow) {
      await printAll(layout.logFile(entry.unit, entry.id), from, print)
      return
    }
    process.once('SIGINT', () => process.exit(0))
    const record = store.readSync(entry)
    await followRun(layout.logFile(entry.unit, entry.id), from, print)
    if (record?.kind !== 'service') return
    // A service instance that ended is followed by its slot's next run, restart after restart.
    for (let current: RunEntry = entry; ; ) {
      const unit = current.unit
      const after = current.id
      current = await waitFor(() => nextRunOfInstance(store, unit, after, record.instance_index))
      this.logToStderr(`--- ${unit}#${record.instance_index} restarted: run ${current.id}`)
      await followRun(layout.logFile(current.unit, current.id), 0, print)
    }
  }
}

function followRun(path: string, from: number, print: (line: LogLine) => void): Promise<void> {
  return new Promise((resolve) => {
    const handle = followLog(path, from, print, () => {
      handle.close()
      resolve()
    })
  })
}

function nextRunOfInstance(store: RunStore, unit: string, after: string, instance: number | null): RunEntry | undefined {
  let found: RunEntry | undefined
  for (const e of store.newest(unit)) {
    if (e.id <= after) break
    if (store.readSync(e)?.instance_index === instance) found = e
  }
  return found
}

async function printAll(path: string, from: number, print: (line: LogLine) => void): Promise<void> {
  let next = from
  for (;;) {
    const page = await readLogPage(path, {from: next, limit: PAGE})
    for (const line of page.lines) print(line)
    if (page.lines.length < PAGE) return
    next = page.lines.at(-1)!.n + 1
  }
}

async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  for (;;) {
    const found = probe()
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, NEXT_RUN_POLL_MS))
  }
}

