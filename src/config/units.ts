import {statSync} from 'node:fs'
import {CronSyntaxError, parseSchedule, type ScheduleSpec} from '../cron/expression.js'
import {canFire} from '../cron/match.js'
import {canonicalZone} from '../cron/zone.js'
import type {Compose, Kind, Parameter, Placement, Unit} from '../core/types.js'
import {composeCommand} from './compose-command.js'
import {UNIT_FIELDS, appliesTo} from './fields.js'
import {readParameters} from './parameters.js'
import {resolveConfigPath} from './paths.js'
import {suggest} from './suggest.js'
import type {Path} from './toml.js'
import {Invalid, describe, isTable, looksLikeSecondsInNanoseconds, nonEmpty, str} from './values.js'

const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/

export interface UnitContext {
  readonly dir: string
  readonly home: string
  readonly isRoot: boolean
  /** `[scheduler] timezone`, else the host zone. */
  readonly zone: string
  error(path: Path, message: string, hint?: string): void
  warn(path: Path, message: string, hint?: string): void
  /** Reads a dotenv file, reporting a failure at `path`; undefined when it cannot be read. */
  dotenv(path: Path, file: string): Record<string, string> | undefined
  isExecutable(file: string): boolean
}

/** A value from `[defaults]`, kept with where it was written. */
export interface DefaultValue {
  readonly value: unknown
  readonly raw: unknown
}

export interface BuiltUnit {
  readonly unit: Unit
  readonly schedule?: ScheduleSpec
  readonly secrets: Record<string, string>
  /** Where the unit's `notify` list is written (its own key, or `[defaults]`), for errors about its ids. */
  readonly notifyPath: Path
}

export function section(kind: Kind): 'tasks' | 'services' {
  return kind === 'task' ? 'tasks' : 'services'
}

export function checkName(name: string): string | undefined {
  if (name === '.' || name === '..') return `"${name}" is not a usable name`
  if (!NAME_PATTERN.test(name)) {
    return `name "${name}" must be 1-100 characters of letters, digits, ".", "_", ":" or "-"`
  }
  return undefined
}

/** Reads one `[tasks.NAME]` or `[services.NAME]` table into a Unit at its effective values. */
export function buildUnit(
  kind: Kind,
  name: string,
  raw: unknown,
  defaults: ReadonlyMap<string, DefaultValue>,
  ctx: UnitContext,
): BuiltUnit | undefined {
  const base: Path = [section(kind), name]
  const at = (...rest: (string | number)[]): Path => [...base, ...rest]
  if (!isTable(raw)) {
    ctx.error(base, `expected a table, got ${describe(raw)}`, `write [${section(kind)}.${name}] followed by its keys`)
    return undefined
  }
  const own = new Map<string, unknown>()
  let ok = true
  const fail = (path: Path, message: string, hint?: string) => {
    ctx.error(path, message, hint)
    ok = false
  }

  for (const [key, value] of Object.entries(raw)) {
    const f = UNIT_FIELDS[key]
    if (!f) {
      const near = suggest(key, Object.keys(UNIT_FIELDS).filter((k) => appliesTo(k, kind)))
      fail(at(key), `unknown key "${key}"`, near ? `did you mean "${near}"?` : undefined)
      continue
    }
    if (!appliesTo(key, kind)) {
      fail(at(key), `"${key}" applies to ${f.applies === 'task' ? 'tasks' : 'services'} only`, kindHint(key, kind))
      continue
    }
    const v = f.read(value)
    if (v instanceof Invalid) {
      fail(at(key), v.message, v.hint)
      continue
    }
    if (f.isDuration && looksLikeSecondsInNanoseconds(value)) {
      ctx.warn(at(key), `${key} = ${String(value)} is ${String(value)} nanoseconds`, `write "${String(value)}s" for seconds`)
    }
    own.set(key, v)
  }

  const hasCron = own.has('cron')
  const get = <T>(key: string): T => {
    if (own.has(key)) return own.get(key) as T
    const inherited = defaults.get(key)
    // Jitter only means something for cron tasks; a default must not make manual tasks invalid.
    if (inherited && appliesTo(key, kind) && (key !== 'jitter' || hasCron)) return inherited.value as T
    return UNIT_FIELDS[key].default(kind) as T
  }

  let schedule: ScheduleSpec | undefined
  const cron = own.get('cron') as string | undefined
  if (cron !== undefined) {
    try {
      schedule = parseSchedule(cron)
      if (schedule.type === 'cron' && !canFire(schedule)) {
        fail(at('cron'), `"${cron}" can never fire (no date matches it)`, 'check the day-of-month and month fields')
      }
    } catch (error) {
      if (!(error instanceof CronSyntaxError)) throw error
      fail(at('cron'), `invalid cron "${cron}": ${error.message}`, error.hint)
    }
  }

  let timezone = ctx.zone
  const ownZone = own.get('timezone') as string | undefined
  if (ownZone !== undefined) {
    const canonical = canonicalZone(ownZone)
    if (canonical) timezone = canonical
    else fail(at('timezone'), `unknown time zone "${ownZone}"`, zoneHint(ownZone))
    if (!hasCron) ctx.warn(at('timezone'), 'timezone has no effect on a task without cron')
  }
  if (own.has('jitter') && !hasCron) fail(at('jitter'), 'jitter needs cron: it spreads scheduled starts')

  const catchUp = get<string>('catch_up')
  const onOverlap = get<string>('on_overlap')
  // Catch-up only concerns cron ticks: an inherited policy must not invalidate a manual task.
  if (kind === 'task' && (hasCron || own.has('catch_up')) && catchUp === 'all' && onOverlap !== 'queue') {
    const where = own.has('catch_up') || !own.has('on_overlap') ? 'catch_up' : 'on_overlap'
    fail(at(where), `catch_up = "all" needs on_overlap = "queue" (it is "${onOverlap}")`, 'catch-up runs wait their turn in the queue')
  }

  const restart = get<string>('restart')
  if (kind === 'task' && restart !== 'never') {
    fail(at('restart'), `tasks accept only restart = "never", got "${restart}"`, 'use retry_attempts to retry a failed task, or declare it under [services] to keep it running')
  }

  let compose: Compose | undefined
  if (own.has('compose')) compose = readCompose(own.get('compose'), at('compose'), fail)
  // The compose file is named relative to sched.toml, as the other paths are.
  if (compose) compose = {...compose, file: resolveConfigPath(compose.file, ctx.dir, ctx.home)}
  let run = own.get('run') as string | undefined
  // A run or compose that is written but invalid has already been reported at its own key.
  if (!('run' in raw) && !('compose' in raw)) fail(at(), `${kind} "${name}" has no run command`, 'add run = "the command to execute"')

  const user = get<string>('user')
  if (user !== '') {
    if (!ctx.isRoot) fail(at('user'), `user = "${user}" needs the daemon to run as root`, 'remove user, or run sched serve as root')
    else if (!/^[^:\s]+(:[^:\s]+)?$/.test(user)) fail(at('user'), `expected "user" or "user:group", got "${user}"`)
  }

  const paths = resolvePaths(own, defaults, ctx, at)
  const env = mergeEnv(own, defaults, paths, ctx, at)
  const secretsFile = paths.secrets_file
  const secrets = secretsFile ? ctx.dotenv(paths.secrets_file_path, secretsFile) ?? {} : {}

  let parameters: Parameter[] = []
  if (own.has('parameters')) {
    const scheduled = hasCron || get<boolean>('run_on_start')
    parameters = readParameters(own.get('parameters'), scheduled, (path, message, hint) => fail(at('parameters', ...path), message, hint))
  }

  if (run === undefined && compose) {
    if (compose.service) run = composeCommand(kind, {...compose, service: compose.service}, parameters)
    else fail(at('compose'), `compose names no service, so ${kind} "${name}" has nothing to run`, 'add service = "NAME" to compose, or write run')
  }

  const shell = get<string>('shell')
  if (!ctx.isExecutable(shell)) ctx.warn(own.has('shell') ? at('shell') : at(), `shell ${shell} is not an executable file on this machine`, 'runs will fail to start until it exists')
  if (paths.working_dir && !isDirectory(paths.working_dir)) {
    ctx.warn(at('working_dir'), `working_dir ${paths.working_dir} does not exist (yet)`, 'runs fail with a clear log line until it does')
  }

  const instances = get<number>('instances')
  const placement = get<Placement>('placement')
  if (placement === 'every_node' && instances !== 1) {
    fail(at('instances'), `placement = "every_node" runs one instance on each node; instances must be 1, got ${instances}`, 'remove instances, or use placement = "any_node" to run that many across the cluster')
  }

  if (!ok) return undefined
  const unit: Unit = {
    name,
    kind,
    run: run ?? '',
    description: get('description'),
    group: get('group'),
    cron,
    timezone,
    run_on_start: get('run_on_start'),
    catch_up: get('catch_up'),
    max_catch_up_runs: get('max_catch_up_runs'),
    jitter: get('jitter'),
    api_trigger: get('api_trigger'),
    // A service runs one process per instance at once; that is its concurrency.
    max_concurrent: kind === 'service' ? instances : get('max_concurrent'),
    on_overlap: get('on_overlap'),
    queue_max: get('queue_max'),
    timeout: get('timeout'),
    retry_attempts: get('retry_attempts'),
    retry_delay: get('retry_delay'),
    retry_backoff: get('retry_backoff'),
    exit_codes: get('exit_codes'),
    restart: get('restart'),
    restart_delay: get('restart_delay'),
    restart_backoff: get('restart_backoff'),
    healthy_after: get('healthy_after'),
    start_retries: get('start_retries'),
    instances,
    placement,
    autostart: get('autostart'),
    priority: get('priority'),
    depends_on: get('depends_on'),
    graceful_stop: get('graceful_stop'),
    stop_signal: get('stop_signal'),
    shell,
    working_dir: paths.working_dir,
    env,
    env_file: paths.env_file,
    secrets_file: secretsFile,
    user,
    umask: get('umask'),
    log_max_size: get('log_max_size'),
    log_on_full: get('log_on_full'),
    keep_runs: get('keep_runs'),
    keep_for: get('keep_for'),
    parameters,
    compose,
    notify: get('notify'),
  }
  return {unit, schedule, secrets, notifyPath: own.has('notify') || !defaults.has('notify') ? at('notify') : ['defaults', 'notify']}
}

function kindHint(key: string, kind: Kind): string {
  if (kind === 'service') {
    if (key === 'cron') return 'services are kept running; declare a scheduled job under [tasks]'
    if (key === 'retry_attempts' || key === 'retry_delay' || key === 'retry_backoff') return 'services restart with restart, restart_delay and restart_backoff'
    return 'declare the unit under [tasks] to use it'
  }
  if (key === 'restart_delay' || key === 'restart_backoff') return 'tasks retry with retry_attempts, retry_delay and retry_backoff'
  return 'declare the unit under [services] to use it'
}

export function zoneHint(zone: string): string {
  const near = suggest(zone, Intl.supportedValuesOf('timeZone'))
  return near ? `did you mean "${near}"?` : 'use an IANA zone name such as "Europe/Bratislava" or "UTC"'
}

/** The `compose` table, or undefined when it has an error (each one reported). */
function readCompose(raw: unknown, path: Path, report: (p: Path, m: string, h?: string) => void): Compose | undefined {
  if (!isTable(raw)) {
    report(path, `expected a table {file, project_name, service}, got ${describe(raw)}`)
    return undefined
  }
  let ok = true
  const fail = (p: Path, m: string, h?: string) => {
    ok = false
    report(p, m, h)
  }
  const known = ['file', 'project_name', 'service']
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) fail([...path, key], `unknown compose key "${key}"`, `known: ${known.join(', ')}`)
  }
  const out: Record<string, string> = {}
  for (const key of known) {
    if (!(key in raw)) {
      if (key !== 'service') fail(path, `compose needs ${key}`)
      continue
    }
    const v = (key === 'service' ? str : nonEmpty)(raw[key])
    if (v instanceof Invalid) fail([...path, key], v.message)
    else out[key] = v
  }
  return ok ? (out as unknown as Compose) : undefined
}

interface ResolvedPaths {
  working_dir: string
  env_file: string
  secrets_file: string
  secrets_file_path: Path
}

function resolvePaths(own: Map<string, unknown>, defaults: ReadonlyMap<string, DefaultValue>, ctx: UnitContext, at: (...k: string[]) => Path): ResolvedPaths {
  const pick = (key: string): [string, Path] => {
    if (own.has(key)) return [resolveConfigPath(own.get(key) as string, ctx.dir, ctx.home), at(key)]
    const d = defaults.get(key)
    if (d && UNIT_FIELDS[key].inheritable) return [resolveConfigPath(d.value as string, ctx.dir, ctx.home), ['defaults', key]]
    return ['', at(key)]
  }
  const [workingDir] = own.has('working_dir') ? pick('working_dir') : ['']
  const [envFile] = pick('env_file')
  const [secretsFile, secretsPath] = pick('secrets_file')
  return {working_dir: workingDir, env_file: envFile, secrets_file: secretsFile, secrets_file_path: secretsPath}
}

/** daemon env < [defaults] env_file < [defaults] env < unit env_file < unit env (the rest is added per run). */
function mergeEnv(
  own: Map<string, unknown>,
  defaults: ReadonlyMap<string, DefaultValue>,
  paths: ResolvedPaths,
  ctx: UnitContext,
  at: (...k: string[]) => Path,
): Record<string, string> {
  const env: Record<string, string> = {}
  const defaultsFile = defaults.get('env_file')
  if (defaultsFile) Object.assign(env, ctx.dotenv(['defaults', 'env_file'], resolveConfigPath(defaultsFile.value as string, ctx.dir, ctx.home)))
  Object.assign(env, defaults.get('env')?.value)
  if (own.has('env_file')) Object.assign(env, ctx.dotenv(at('env_file'), paths.env_file))
  Object.assign(env, own.get('env'))
  return env
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}
