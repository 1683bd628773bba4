import type {Config} from '../config/load.js'
import {ExitCode, SchedError} from '../core/errors.js'
import {type LogFormat, createLogger} from '../core/logger.js'
import {StateLayout} from '../state/layout.js'
import {resolveStateDir} from '../state/location.js'
import {TICKET_LIFETIME_MS} from '../state/sign-in-ticket.js'
import {DaemonHost} from './daemon-host.js'

/** `sched serve`'s settings, however they were parsed (oclif for --help, util.parseArgs for the lean entry). */
export interface ServeFlags {
  readonly config?: string
  readonly stateDir?: string
  readonly host?: string
  readonly port?: number
  readonly noApi?: boolean
  readonly logFormat?: LogFormat
}

/**
 * The daemon in the foreground (SPEC §7) until SIGTERM or SIGINT; SIGHUP reloads. Resolves with
 * the exit code. `say` prints the one line that tells where it serves.
 */
export async function serve(flags: ServeFlags, config: Config, say: (line: string) => void): Promise<number> {
  const layout = new StateLayout(resolveStateDir({flag: flags.stateDir, configured: config.daemon.state_dir}))
  const logger = createLogger(flags.logFormat ?? 'text')
  const listen = flags.noApi ? undefined : {host: flags.host ?? process.env.SCHED_HOST ?? config.daemon.host, port: flags.port ?? envPort() ?? config.daemon.port}

  const {host, info} = await DaemonHost.start({config, layout, logger, listen})
  const token = info.tokenSource ? ` · token ${info.tokenSource}` : ''
  say(`sched serving ${info.url ?? '(no API)'} · state ${info.stateDir} · config ${info.configPath}${token}`)
  if (info.signInUrl) say(`dashboard: ${info.signInUrl} (one-time sign-in link, valid ${TICKET_LIFETIME_MS / 60_000} minutes; sched status prints a new one)`)

  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info('daemon.signal', {signal})
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onInt)
      host.stop().then(
        () => resolve(ExitCode.ok),
        (error: unknown) => {
          logger.error('daemon.stop_failed', {error: String(error)})
          resolve(ExitCode.failure)
        },
      )
    }
    const onTerm = () => shutdown('SIGTERM')
    const onInt = () => shutdown('SIGINT')
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onInt)
    process.on('SIGHUP', () => {
      logger.info('daemon.signal', {signal: 'SIGHUP'})
      void host.daemon.reload().then((result) => {
        if (result.ok) return
        logger.error('daemon.reload_refused', {reason: result.message})
        for (const e of result.errors ?? []) logger.error('config.error', {key: e.key, line: e.line, column: e.column, message: e.message})
      })
    })
  })
}

function envPort(): number | undefined {
  const raw = process.env.SCHED_PORT
  if (raw === undefined || raw === '') return undefined
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new SchedError(`SCHED_PORT="${raw}" is not a port number (0-65535)`, {exit: ExitCode.usage})
  }
  return port
}
