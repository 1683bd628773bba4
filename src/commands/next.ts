import {Args, Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {renderTable} from '../cli/table.js'
import {formatTime} from '../cli/time.js'
import {scheduleFor} from '../cron/schedule.js'
import {formatDuration, msToNs} from '../core/duration.js'
import {SchedError} from '../core/errors.js'
import {liveDaemon} from '../state/claim.js'

export interface UpcomingTick {
  readonly at: string
  readonly local: string
  readonly zone: string | null
  readonly kind: 'fire' | 'dst_skipped'
  readonly note: string | null
}

export default class Next extends SchedCommand {
  static summary = "Preview a task's next ticks with their zone and DST notes."
  static description =
    'Lists the next N ticks of a cron task in its time zone, marking a tick moved forward out of a daylight-saving gap and a repeated wall-clock time on a fall-back day (recorded dst_skipped, not run). @every schedules count from the running daemon\'s start, else from now.'
  static examples = [
    {command: '<%= config.bin %> next backup', description: 'The next 5 ticks.'},
    {command: '<%= config.bin %> next backup -n 20 --json', description: 'As data.'},
  ]

  static args = {
    task: Args.string({required: true, description: 'A task with a cron schedule.'}),
  }

  static flags = {
    count: Flags.integer({char: 'n', summary: 'How many ticks.', default: 5, min: 1, max: 1000}),
  }

  /** --json: the ticks as an array of {at, local, zone, kind, note}. */
  static enableJsonFlag = true

  async run(): Promise<UpcomingTick[]> {
    const {args, flags} = await this.parse(Next)
    const config = this.loadConfig(flags.config)
    const unit = config.units.find((u) => u.name === args.task)
    if (!unit) throw new SchedError(`no task named "${args.task}" in ${config.path}`, {exit: ExitCode.notFound})
    const spec = config.schedules.get(unit.name)
    if (!spec) throw new SchedError(`${unit.kind} "${unit.name}" has no schedule${unit.kind === 'task' ? ' (it runs only when triggered)' : ''}`, {exit: ExitCode.failure})
    const daemon = liveDaemon(this.layout(flags['state-dir'], config))
    const now = Date.now()
    const anchor = spec.type === 'every' && daemon?.mode === 'serve' ? Date.parse(daemon.started_at) : now
    const schedule = scheduleFor(spec, unit.timezone, anchor)
    const ticks: UpcomingTick[] = []
    for (let tick = schedule.nextTick(now); tick && ticks.length < flags.count; tick = schedule.nextTick(tick.at)) {
      const zone = schedule.zone ?? null
      let note: string | null = null
      if (tick.kind === 'dst_skipped') note = 'repeated wall-clock time (DST fall-back): recorded dst_skipped, not run'
      else if (tick.shiftedMs) note = `in a DST gap: runs ${formatDuration(msToNs(tick.shiftedMs))} later`
      else if (spec.type === 'every') note = daemon?.mode === 'serve' ? "counted from the daemon's start" : 'counted from now (no daemon running)'
      ticks.push({at: new Date(tick.at).toISOString(), local: zone ? formatTime(tick.at, zone) : new Date(tick.at).toISOString(), zone, kind: tick.kind, note})
    }
    if (!this.jsonEnabled()) {
      const c = this.out()
      this.log(renderTable(['LOCAL TIME', 'ZONE', 'UTC', 'NOTE'], ticks.map((t) => [t.local, t.zone ?? '', t.at, t.note ? c.yellow(t.note) : ''])))
    }
    return ticks
  }
}
