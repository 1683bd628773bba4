import {Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {SchedError} from '../core/errors.js'
import {createLogger} from '../core/logger.js'
import {DaemonHost} from '../host/daemon-host.js'

export default class Serve extends SchedCommand {
  static summary = 'Run the daemon in the foreground: schedule tasks, supervise services, serve the API.'
  static description = `Loads and validates the config (an invalid config exits 1 before anything starts), claims the state directory (a second daemon on it exits 5 naming the live pid), and listens on 127.0.0.1:9477 unless told otherwise. SIGTERM or SIGINT stops it cleanly with exit 0; SIGHUP reloads the config.

Run it in a terminal, or under systemd with Type=simple and Restart=on-failure.`
  static examples = [
    {command: '<%= config.bin %> serve', description: 'Serve ./sched.toml on 127.0.0.1:9477.'},
    {command: '<%= config.bin %> serve -c /etc/sched/sched.toml --log-format json', description: 'Under systemd, with JSON log lines for the journal.'},
    {command: '<%= config.bin %> serve --port 0', description: 'Pick a free port and print it.'},
  ]

  static flags = {
    host: Flags.string({summary: 'Address to listen on (default: $SCHED_HOST, [daemon] host, 127.0.0.1).'}),
    port: Flags.integer({summary: 'Port to listen on; 0 picks a free one (default: $SCHED_PORT, [daemon] port, 9477).', min: 0, max: 65_535}),
    'no-api': Flags.boolean({summary: 'Do not open the HTTP API (the CLI still works through the state directory).'}),
    'log-format': Flags.string({summary: 'Format of the daemon log on stderr.', options: ['text', 'json'], default: 'text'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    const config = this.loadConfig(flags.config)
    // The engine does not run a cluster yet (docs/cluster.md): serving such a file on its own on
    // each node would fire every tick once per node.
    if (config.cluster) {
      throw new SchedError(`${config.path} has a [cluster] table, which this sched serve does not run yet`, {
        hint: 'remove [cluster] to serve this node on its own; sched cluster status already reads the cluster database',
      })
    }
    const layout = this.layout(flags['state-dir'], config)
    const logger = createLogger(flags['log-format'] as 'text' | 'json')
    const listen = flags['no-api']
      ? undefined
      : {host: flags.host ?? process.env.SCHED_HOST ?? config.daemon.host, port: flags.port ?? envPort() ?? config.daemon.port}

    const {host, info} = await DaemonHost.start({config, layout, logger, listen})
    const token = info.tokenSource ? ` · token ${info.tokenSource}` : ''
    this.logToStderr(`sched serving ${info.url ?? '(no API)'} · state ${info.stateDir} · config ${info.configPath}${token}`)

    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        logger.info('daemon.signal', {signal})
        process.off('SIGTERM', onTerm)
        process.off('SIGINT', onInt)
        host.stop().then(resolve, (error: unknown) => {
          logger.error('daemon.stop_failed', {error: String(error)})
          process.exitCode = ExitCode.failure
          resolve()
        })
      }
      const onTerm = () => shutdown('SIGTERM')
      const onInt = () => shutdown('SIGINT')
      process.on('SIGTERM', onTerm)
      process.on('SIGINT', onInt)
      process.on('SIGHUP', () => {
        logger.info('daemon.signal', {signal: 'SIGHUP'})
        void host.daemon.reload().then((result) => {
          if (!result.ok) {
            logger.error('daemon.reload_refused', {reason: result.message})
            for (const e of result.errors ?? []) logger.error('config.error', {key: e.key, line: e.line, column: e.column, message: e.message})
          }
        })
      })
    })
  }
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
