import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {type Converted, ImportCommand, type ImportContext, readInput} from '../../cli/import-command.js'
import {SchedError} from '../../core/errors.js'
import {convertCompose} from '../../import/compose.js'

// The names docker compose looks for, in its order.
const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']

export default class ImportCompose extends ImportCommand {
  static summary = 'Convert a Docker Compose file into sched services and tasks.'
  static description = `Docker Compose keeps running the containers (image, ports, volumes, environment and healthchecks stay in the Compose file); sched supervises one docker compose process per service. A service with a restart policy (always, unless-stopped, on-failure) or none becomes a sched service running "docker compose -p PROJECT -f FILE up --no-deps --no-log-prefix --exit-code-from SERVICE SERVICE" in the foreground; one with restart: "no", or with an x-sched block, becomes a task running "docker compose -p PROJECT -f FILE run --rm SERVICE".

An x-sched block holds sched keys for the unit: cron, timezone, parameters, timeout, retry_attempts, description… depends_on (list and map forms) orders services at boot; stop_signal and stop_grace_period become the stop ladder (a service gets 10s more than the grace, for compose to stop and remove the container); healthcheck.start_period becomes healthy_after; profiles become the group, and a service in a profile does not start at boot. Every unit carries compose = {file, project_name, service}, shown by GET /api/tasks; the project is --project, else the file's name:, else its directory's name.

What sched does not take (replicas, depends_on a one-shot service, on-failure:N) is listed on stderr with its line.`
  static examples = [
    {command: '<%= config.bin %> import compose docker-compose.yml -o sched.toml', description: 'A new config next to the Compose file.'},
    {command: '<%= config.bin %> import compose --services web,worker --project shop', description: 'Two services of ./compose.yaml, printed.'},
    {command: '<%= config.bin %> import compose stack.yml --merge /etc/sched/sched.toml', description: 'Add them to an existing config.'},
  ]

  static args = {
    file: Args.string({description: 'The Compose file (default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml here).'}),
  }

  static flags = {
    ...ImportCommand.importFlags,
    project: Flags.string({char: 'p', summary: "The Compose project name (default: the file's name:, else its directory's name)."}),
    services: Flags.string({summary: 'Only these Compose services, comma-separated.'}),
  }

  protected async convert({configDir}: ImportContext): Promise<Converted> {
    const {args, flags} = await this.parse(ImportCompose)
    const file = args.file ?? DEFAULT_FILES.find((f) => existsSync(f))
    if (!file) throw new SchedError(`no Compose file here (looked for ${DEFAULT_FILES.join(', ')})`, {hint: 'name it: sched import compose FILE'})
    if (file === '-') throw new SchedError('the Compose file must be a file: docker compose is given its path', {exit: 2})
    const {source, text} = readInput(file)
    const services = flags.services?.split(',').map((s) => s.trim()).filter(Boolean)
    const result = convertCompose(text, {source, path: resolve(file), project: flags.project, services, configDir})
    return {result, header: [`Imported from ${source} by sched import compose.`, 'Docker Compose runs the containers; sched supervises one docker compose process per unit.']}
  }
}
