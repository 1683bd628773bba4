import {parseArgs} from 'node:util'
import {type NameKind, NAME_KINDS, completionNames} from './completion/names.js'

/**
 * `sched completion --names KIND [-c FILE] [--state-dir DIR]` without oclif: the completion
 * scripts run it at every Tab, so bin/run.js loads this small bundle (dist/completion-main.js)
 * instead of the CLI's, a third of the start-up time. Anything it cannot read completes to
 * nothing; it never prints an error into the user's command line.
 */
export function main(argv: readonly string[]): void {
  try {
    const {values} = parseArgs({
      args: [...argv],
      options: {names: {type: 'string'}, config: {type: 'string', short: 'c'}, 'state-dir': {type: 'string'}},
      strict: false,
    })
    const kind = values.names
    if (typeof kind !== 'string' || !NAME_KINDS.includes(kind as NameKind)) return
    const names = completionNames(kind as NameKind, {config: str(values.config), stateDir: str(values['state-dir'])})
    if (names.length) process.stdout.write(`${names.join('\n')}\n`)
  } catch {
    // An unreadable command line completes to nothing, as an unreadable config does.
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
