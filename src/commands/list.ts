import {JsonText, SchedCommand} from '../cli/base.js'
import {renderTable} from '../cli/table.js'
import {formatRelative, formatTime} from '../cli/time.js'
import {serviceLabel} from '../core/service-label.js'
import {taskObject, type TaskObject} from '../config/task-json.js'
import {NextRuns, scheduledNames} from '../engine/next-runs.js'
import {formatIssue} from '../cli/issues.js'
import {readCompiledConfig} from '../state/compiled-config.js'
import {liveDaemon} from '../state/claim.js'
import {RunStore} from '../state/runs.js'
import {type UnitBook, UnitBooks} from '../state/unit-books.js'
import {ulidTime} from '../core/ulid.js'
import type {ChalkInstance} from 'chalk'

export default class List extends SchedCommand {
  static summary = 'List every task and service with its schedule and next run.'
  static description =
    'Reads the config (and the state directory, if any); needs no daemon. With --json, prints exactly the array GET /api/tasks returns: every field of every unit at its effective value.'
  static examples = [
    {command: '<%= config.bin %> list', description: 'A table for people.'},
    {command: "<%= config.bin %> list --json | jq '.[] | select(.kind == \"task\") | {name, cron, next_run_at}'", description: 'Data for scripts.'},
  ]

  static enableJsonFlag = true

  async run(): Promise<TaskObject[] | JsonText> {
    const {flags} = await this.parse(List)
    if (this.jsonEnabled()) {
      // The daemon's compiled copy, while the file and what it names are unchanged: no parse.
      const path = this.locateConfig(flags.config)
      const compiled = readCompiledConfig(path, flags['state-dir'])
      if (compiled) {
        for (const w of compiled.warnings) this.logToStderr(`warning: ${formatIssue(path, w)}`)
        return new JsonText(compiled.tasksJson(compiled.nextRuns(everyAnchor(liveDaemon(compiled.layout))), Date.now()))
      }
    }
    const config = this.loadConfig(flags.config)
    const layout = this.layout(flags['state-dir'], config)
    const daemon = liveDaemon(layout)
    const nextRuns = new NextRuns(scheduledNames(config.units, config.schedules), everyAnchor(daemon))
    const now = Date.now()
    if (this.jsonEnabled()) return config.units.map((u) => taskObject(u, nextRuns.nextRunAt(u.name, now)))
    const c = this.out()
    const store = new RunStore(layout)
    const books = new UnitBooks(layout)
    if (daemon?.mode === 'serve') books.load()
    const rows = config.units.map((u) => {
      const next = nextRuns.nextRunAt(u.name, now)
      const schedule = u.kind === 'service' ? `${u.instances} instance${u.instances === 1 ? '' : 's'}` : !u.cron ? c.dim('manual') : config.schedules.get(u.name)?.type === 'every' ? u.cron : `${u.cron} (${u.timezone})`
      const nextText = next === undefined ? c.dim('—') : `${formatTime(next, u.timezone)} (${formatRelative(next, now)})`
      const last = store.latest(u.name)
      const lastText = last ? `${last.state === 'active' ? 'running' : last.state} ${formatRelative(ulidTime(last.id), now)}` : c.dim('—')
      return [u.name, u.kind, schedule, nextText, lastText, u.kind === 'service' ? serviceText(books.get(u.name)?.service, daemon !== undefined, c) : '']
    })
    if (rows.length === 0) this.log(c.dim(`no units in ${config.path}`))
    else this.log(renderTable(['NAME', 'KIND', 'SCHEDULE', 'NEXT RUN', 'LAST RUN', 'STATE'], rows))
    // oclif prints what run() returns only with --json; the table is the whole human output.
    return []
  }
}

/** @every ticks count from the daemon's start: with no daemon running there is no next run. */
function everyAnchor(daemon: ReturnType<typeof liveDaemon>): number | undefined {
  return daemon?.mode === 'serve' ? Date.parse(daemon.started_at) : undefined
}

/** The daemon's last word on a service, coloured. */
function serviceText(state: UnitBook['service'], daemonRunning: boolean, c: ChalkInstance): string {
  const {text, tone} = serviceLabel(daemonRunning ? state : undefined)
  return {ok: c.green, warn: c.yellow, fail: c.red, off: c.dim}[tone](text)
}
