import {Args, Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {refusalError} from '../cli/control.js'
import {DaemonClient} from '../cli/daemon-client.js'
import {exitCodeOf} from '../cli/run-exit.js'
import {parseParamFlags} from '../config/parameters.js'
import {SchedError} from '../core/errors.js'
import {createLogger} from '../core/logger.js'
import {type TriggerAnswer, notStarted} from '../engine/outcomes.js'
import {runInForeground} from '../host/foreground.js'
import {triggerAnswer} from '../host/request-handler.js'
import {liveDaemon} from '../state/claim.js'
import {waitForClusterRun} from '../cli/cluster-wait.js'
import {followLog} from '../logs/reader.js'
import {type PublicRun, type RunRecord, publicRun} from '../state/run-record.js'

export default class Trigger extends SchedCommand {
  static summary = 'Start a run of a task now.'
  static description = `With a daemon serving the state directory, the request goes through the state directory (no HTTP, no token) and the run id is printed once the daemon has accepted it. With no daemon, the run executes in this process, its output streamed, recorded in the same state — and the command exits with the run's exit code.

Refused runs (unknown task, api_trigger = false, bad parameters, on_overlap = "skip" at the limit, a full queue) exit non-zero with the reason.`
  static examples = [
    {command: '<%= config.bin %> trigger backup', description: 'Start a run.'},
    {command: '<%= config.bin %> trigger backup --param env=prod --param dry-run', description: 'With parameters (a bare key sets a flag).'},
    {command: '<%= config.bin %> trigger backup --wait', description: "Wait for the run and exit with its exit code."},
    {command: '<%= config.bin %> trigger backup --follow', description: 'Stream its output while it runs.'},
  ]

  static args = {
    task: Args.string({required: true, description: 'The task to run.'}),
  }

  static flags = {
    param: Flags.string({
      char: 'p',
      summary: 'A parameter as KEY=VALUE, or KEY alone for a flag. Repeatable.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    wait: Flags.boolean({summary: "Wait for the run to end and exit with its exit code (a signal: 128+n; no code: 1)."}),
    follow: Flags.boolean({char: 'f', summary: "Stream the run's output until it ends."}),
  }

  /** --json: the run record (the final one with --wait or --follow); a refusal is one {error}. */
  static enableJsonFlag = true

  async run(): Promise<PublicRun> {
    const {args, flags} = await this.parse(Trigger)
    const params = parseParamFlags(flags.param ?? [])
    // A daemon runs the config it loaded: a broken edit on disk must not block triggers through it
    // (as with stop, start and reload). Only a run in this process needs the file to be valid.
    const {config: read, layout} = this.readContext(flags.config, flags['state-dir'])
    const client = DaemonClient.find(layout)

    if (client) {
      const run = this.report(await client.trigger(args.task, params))
      // With --wait or --follow, --json prints the final record only: stdout stays one document.
      if (!flags.wait && !flags.follow) return run
      // In a cluster a queued run may start on another node, which keeps its output.
      const cluster = read?.cluster
      if (flags.follow && cluster && run.status !== 'running') this.logToStderr(`run ${run.id} is queued in the cluster: its output will be on the node that starts it; waiting for its end`)
      else if (flags.follow) await this.follow(layout.logFile(run.task_name, run.id))
      const final = cluster ? await waitForClusterRun(cluster.url, run.id) : await client.waitForEnd(run)
      this.logToStderr(endedLine(final))
      if (flags.wait) process.exitCode = exitCodeOf(final)
      return publicRun(final)
    }
    // A run in this process would bypass the cluster's admission, queue and records.
    if (read?.cluster) {
      throw new SchedError(`no daemon serves ${layout.root}: in a cluster a task runs through a node`, {exit: ExitCode.noDaemon, hint: 'start this node (sched serve), or trigger on another node: POST /api/tasks/NAME/run'})
    }
    const claimant = liveDaemon(layout)
    if (claimant) {
      throw new SchedError(`state directory ${layout.root} is busy: ${claimant.command ?? 'another sched trigger'} (pid ${claimant.pid}) runs in the foreground`, {exit: ExitCode.busy, hint: 'wait for it to finish, or start the daemon: sched serve'})
    }

    let interrupt!: () => void
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve))
    process.once('SIGINT', () => interrupt())
    process.once('SIGTERM', () => interrupt())
    const config = this.loadConfig(flags.config)
    const result = await runInForeground({
      config,
      layout,
      logger: createLogger('text', () => {}),
      unit: args.task,
      params,
      interrupted,
      onOutput: (stream, payload) => (stream === 'stdout' ? process.stdout : process.stderr).write(payload),
    })
    const run = this.report(triggerAnswer(result.trigger), result.final)
    process.exitCode = exitCodeOf(result.final ?? run)
    return run
  }

  /** Narrates what happened to the request; throws with the right exit code when it was refused. */
  private report(answer: TriggerAnswer, final?: RunRecord): PublicRun {
    if (!answer.ok) throw refusalError(answer)
    if (notStarted(answer.outcome)) {
      throw new SchedError(`run ${answer.run.id} of ${answer.run.task_name} was not started: ${answer.run.message}`, {exit: ExitCode.failure, details: {run: answer.run}})
    }
    if (final) {
      this.logToStderr(endedLine(final))
      return publicRun(final)
    }
    this.log(`${answer.outcome} run ${answer.run.id} of ${answer.run.task_name}`)
    return answer.run
  }

  private follow(logPath: string): Promise<void> {
    // Under --json stdout carries the record alone; the followed output goes to stderr.
    const stdout = this.jsonEnabled() ? process.stderr : process.stdout
    return new Promise((resolve) => {
      const handle = followLog(
        logPath,
        0,
        (line) => (line.stream === 'stdout' ? stdout : process.stderr).write(`${line.text}\n`),
        () => {
          handle.close()
          resolve()
        },
      )
    })
  }
}

function endedLine(run: RunRecord): string {
  return `run ${run.id} ended: ${run.end_reason}${run.message ? ` (${run.message})` : ''}`
}
