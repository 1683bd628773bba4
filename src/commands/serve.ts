import {Flags} from '@oclif/core'
import {ExitCode, SchedCommand} from '../cli/base.js'
import {serve} from '../host/serve.js'

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
    const code = await serve(
      {config: flags.config, stateDir: flags['state-dir'], host: flags.host, port: flags.port, noApi: flags['no-api'], logFormat: flags['log-format'] as 'text' | 'json'},
      config,
      (line) => this.logToStderr(line),
    )
    if (code !== ExitCode.ok) process.exitCode = code
  }
}
