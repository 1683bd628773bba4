import {Args, Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {renderTable} from '../cli/table.js'
import {EVERY_FROM_DAEMON, upcomingTicks} from '../cron/upcoming.js'
import {SchedError} from '../core/errors.js'
import type {UpcomingTick} from '../core/types.js'
import {liveDaemon} from '../state/claim.js'

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
    const serving = daemon?.mode === 'serve'
    const every = serving ? {anchor: Date.parse(daemon.started_at), note: EVERY_FROM_DAEMON} : {anchor: now, note: 'counted from now (no daemon running)'}
    const ticks = upcomingTicks(spec, {zone: unit.timezone, now, count: flags.count, every})
    if (!this.jsonEnabled()) {
      const c = this.out()
      this.log(renderTable(['LOCAL TIME', 'ZONE', 'UTC', 'NOTE'], ticks.map((t) => [t.local, t.zone ?? '', t.at, t.note ? c.yellow(t.note) : ''])))
    }
    return ticks
  }
}
