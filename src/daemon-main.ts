import {setFlagsFromString} from 'node:v8'
import {formatIssue} from './cli/issues.js'
import {ExitCode, SchedError, errorMessage} from './core/errors.js'
import {ConfigInvalidError, loadValidConfig} from './config/valid.js'
import {serve} from './host/serve.js'
import {parseServeArgs} from './host/serve-args.js'

/**
 * `sched serve` without oclif: bin/run.js loads this small bundle (dist/daemon-main.js) for the
 * daemon, so that a long-running process does not hold a command framework, its help system and
 * every other command in memory. `sched serve --help` still goes through oclif, which describes
 * the same flags (src/commands/serve.ts).
 */
export async function main(argv: readonly string[]): Promise<void> {
  // V8 doubles the young generation whenever much of it survives a collection — as everything
  // does while a config loads — and never gives the space back: a 1000-unit daemon held 12 MB of
  // empty new space for good. Kept at its first size, the daemon stays small; its steady state
  // allocates little, so the extra minor collections cost nothing measurable.
  setFlagsFromString('--semi-space-growth-factor=1')
  // No TurboFan: its first optimisation pages 3.5 MB of the compiler's own machine code into the
  // process for good, and the daemon's hot paths (a trigger, a record, /api/tasks) run as fast
  // within the budgets on Maglev (README, Benchmarks).
  setFlagsFromString('--max-opt=2')
  try {
    const flags = parseServeArgs(argv)
    const config = loadValidConfig(flags.config, (issue, path) => process.stderr.write(`warning: ${formatIssue(path, issue)}\n`))
    process.exitCode = await serve(flags, config, (line) => process.stderr.write(`${line}\n`))
  } catch (error) {
    if (error instanceof ConfigInvalidError) for (const issue of error.issues) process.stderr.write(`${formatIssue(error.path, issue)}\n`)
    // The same form as oclif's errors (sched's other commands).
    const hint = error instanceof SchedError && error.hint ? `\n ›   ${error.hint}` : ''
    process.stderr.write(` ›   Error: ${errorMessage(error)}${hint}\n`)
    process.exitCode = error instanceof SchedError ? error.exit : ExitCode.failure
  }
}
