import {parseArgs} from 'node:util'
import {ExitCode, SchedError, errorMessage} from '../core/errors.js'
import type {ServeFlags} from './serve.js'

export const SERVE_OPTIONS = {
  config: {type: 'string', short: 'c'},
  'state-dir': {type: 'string'},
  host: {type: 'string'},
  port: {type: 'string'},
  'no-api': {type: 'boolean'},
  'log-format': {type: 'string'},
} as const

/** `sched serve`'s command line, parsed without oclif; the same flags as src/commands/serve.ts (a test compares them). */
export function parseServeArgs(argv: readonly string[]): ServeFlags {
  let values
  try {
    ;({values} = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: SERVE_OPTIONS,
    }))
  } catch (error) {
    throw new SchedError(errorMessage(error), {exit: ExitCode.usage, hint: 'see: sched serve --help'})
  }
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535 && /^\d+$/.test(values.port!))) {
    throw new SchedError(`--port ${values.port}: expected an integer from 0 to 65535`, {exit: ExitCode.usage})
  }
  const format = values['log-format']
  if (format !== undefined && format !== 'text' && format !== 'json') throw new SchedError(`--log-format ${format}: expected text or json`, {exit: ExitCode.usage})
  return {config: values.config, stateDir: values['state-dir'], host: values.host, port, noApi: values['no-api'], logFormat: format}
}
