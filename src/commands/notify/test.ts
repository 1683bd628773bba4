import {Args} from '@oclif/core'
import {ExitCode, SchedCommand} from '../../cli/base.js'
import {refusalError} from '../../cli/control.js'
import {DaemonClient} from '../../cli/daemon-client.js'
import {systemClock} from '../../core/clock.js'
import {NS} from '../../core/duration.js'
import {SchedError} from '../../core/errors.js'
import {type TestAnswer, testNotifier} from '../../notify/notifications.js'

/** How long the daemon may take to send when this CLI cannot read the notifier's own timeout (its maximum). */
const LONGEST_SEND_MS = 10 * 60_000

export default class NotifyTest extends SchedCommand {
  static summary = 'Send a test message through a notifier and show what the remote answered.'
  static description = `With a daemon serving the state directory, the daemon sends it, with the config and environment it runs with (so "env:NAME" settings resolve as they will for real alerts). With no daemon, this command sends it from the config file and its own environment.

One attempt, no retries, not recorded in the notification history. Exits 0 when the remote accepted the message, 1 when it did not, 3 for an unknown notifier.`
  static examples = [
    {command: '<%= config.bin %> notify test ops-slack', description: 'Check that Slack receives alerts.'},
    {command: '<%= config.bin %> notify test mail --json', description: 'The answer as data: {notifier, kind, ok, status, response, error, duration_ms}.'},
  ]

  static args = {
    notifier: Args.string({required: true, description: 'The id of a [notifiers.<id>] table.'}),
  }

  /** --json: {notifier, kind, ok, status, response, error, duration_ms}; exit 1 still when not delivered. */
  static enableJsonFlag = true

  async run(): Promise<TestAnswer> {
    const {args, flags} = await this.parse(NotifyTest)
    const {layout, config: local} = this.readContext(flags.config, flags['state-dir'])
    const client = DaemonClient.find(layout)
    let answer: TestAnswer | undefined
    if (client) {
      const timeout = local?.notify.notifiers.get(args.notifier)?.timeout
      const response = await client.notifyTest(args.notifier, timeout === undefined ? LONGEST_SEND_MS : timeout / NS.ms)
      if (!response.ok) throw refusalError(response)
      answer = response.result
    } else {
      const config = this.loadConfig(flags.config)
      answer = await testNotifier(config, args.notifier, systemClock)
      if (!answer) {
        const known = [...config.notify.notifiers.keys()]
        throw new SchedError(`no notifier "${args.notifier}" in ${config.path}`, {exit: ExitCode.notFound, hint: known.length ? `notifiers: ${known.join(', ')}` : 'declare one as a [notifiers.ID] table'})
      }
    }
    const c = this.out()
    const remote = answer.status === null ? '' : ` ${answer.status}${answer.response ? ` ${answer.response.split('\n')[0]}` : ''}`
    if (answer.ok) this.log(`${c.green('delivered')} through ${answer.notifier} (${answer.kind}) in ${answer.duration_ms} ms: the remote answered${remote || ' ok'}`)
    else this.log(`${c.red('not delivered')} through ${answer.notifier} (${answer.kind}): ${answer.error ?? 'refused'}`)
    if (!answer.ok) process.exitCode = ExitCode.failure
    return answer
  }
}
