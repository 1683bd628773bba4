import {existsSync, mkdirSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {SchedCommand} from '../cli/base.js'
import {loadConfigText} from '../config/load.js'
import {STARTER_CONFIG} from '../config/starter.js'
import {SchedError} from '../core/errors.js'
import {writeFileAtomicSync} from '../state/atomic.js'

export default class Init extends SchedCommand {
  static summary = 'Write a commented starter sched.toml.'
  static description = `Writes a config with the [daemon] table, one task and one service, and the keys you are likely to want next commented out, to ./sched.toml (where sched serve started here finds it), to $SCHED_CONFIG when set, or to the path given with -c. An existing file is never overwritten.

To migrate what you have instead, see sched import crontab, sched import compose and sched import supervisord.`
  static examples = [
    {command: '<%= config.bin %> init && <%= config.bin %> serve', description: 'Start here.'},
    {command: 'sudo <%= config.bin %> init -c /etc/sched/sched.toml', description: 'A system config, for sched service install.'},
  ]

  async run(): Promise<void> {
    const {flags} = await this.parse(Init)
    const path = resolve(flags.config ?? (process.env.SCHED_CONFIG || 'sched.toml'))
    if (existsSync(path)) throw new SchedError(`${path} already exists; nothing was written`, {hint: `edit it, or check it with: sched validate -c ${path}`})
    // The starter must load as it is: a broken first file would be a poor welcome.
    const check = loadConfigText(STARTER_CONFIG, path)
    if (!check.ok) throw new SchedError(`the starter config does not load: ${check.errors.map((e) => e.message).join('; ')}`)
    mkdirSync(dirname(path), {recursive: true})
    writeFileAtomicSync(path, STARTER_CONFIG, 0o644)
    this.logToStderr(`wrote ${path}`)
    this.logToStderr(`next: sched validate${flags.config ? ` -c ${path}` : ''}, then sched serve${flags.config ? ` -c ${path}` : ''} (or sched service install to run it under systemd)`)
  }
}
