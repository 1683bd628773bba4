import type {Compose, Kind, Parameter} from '../core/types.js'

/**
 * The command of a unit that names a Compose service and writes no `run` of its own (SPEC §2:
 * `run` is required unless `compose` is set). A service keeps `docker compose up` attached in the
 * foreground, so sched supervises the container through it: `--no-deps` leaves the other
 * services to their own units, `--no-log-prefix` keeps the log as the container wrote it, and
 * `--exit-code-from` makes compose exit with the container's code, which `restart = "on_failure"`
 * and `exit_codes` judge. A task runs the service once (`run --rm`); env parameters are passed
 * into the container by name (`-e KEY`) and the others arrive as the container command's
 * arguments (`"$@"`), never spliced into the text.
 */
export function composeCommand(kind: Kind, compose: Compose & {service: string}, parameters: readonly Parameter[]): string {
  const base = ['exec', 'docker', 'compose', '-p', shellQuote(compose.project_name), '-f', shellQuote(compose.file)]
  const service = shellQuote(compose.service)
  if (kind === 'service') return [...base, 'up', '--no-deps', '--no-log-prefix', '--exit-code-from', service, service].join(' ')
  const env = parameters.filter((p) => p.kind === 'env').flatMap((p) => ['-e', shellQuote(p.key)])
  const args = parameters.some((p) => p.kind !== 'env') ? ['"$@"'] : []
  return [...base, 'run', '--rm', ...env, service, ...args].join(' ')
}

/** A word for `sh -c`: left bare when it holds nothing the shell would interpret. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}
