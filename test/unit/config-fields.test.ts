import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {DAEMON_FIELDS, INHERITABLE_KEYS, UNIT_FIELDS} from '../../src/config/fields.js'
import {type Config, type ConfigIssue, type LoadOptions, loadConfigFile, loadConfigText} from '../../src/config/load.js'
import type {Kind, Unit} from '../../src/core/types.js'

// One temp dir for the whole file: the config "lives" there, so relative paths resolve into it
// and dotenv files are real files.
const TMP = mkdtempSync(join(tmpdir(), 'sched-config-fields-'))
afterAll(() => rmSync(TMP, {recursive: true, force: true}))
const CONFIG = join(TMP, 'sched.toml')
const HOME = '/home/tester'
const BASE: LoadOptions = {isRoot: false, hostZone: 'UTC', home: HOME}

writeFileSync(join(TMP, 'app.env'), 'APP=from-app-file\n')

const S = 1e9
const MS = 1e6
const MIN = 60 * S
const H = 60 * MIN
const D = 24 * H
const KiB = 1024
const MiB = 1024 ** 2
const GiB = 1024 ** 3

function load(text: string, options: LoadOptions = {}) {
  return loadConfigText(text, CONFIG, {...BASE, ...options})
}

function describeIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((e) => `${e.key} ${e.line}:${e.column} ${e.message}`).join('\n')
}

function config(text: string, options: LoadOptions = {}): Config {
  const result = load(text, options)
  if (!result.ok) throw new Error(`expected the config to load, got:\n${describeIssues(result.errors)}`)
  return result.config
}

function errors(text: string, options: LoadOptions = {}): readonly ConfigIssue[] {
  const result = load(text, options)
  if (result.ok) throw new Error('expected load errors, but the config loaded')
  return result.errors
}

function unitOf(cfg: Config, name: string): Unit {
  const unit = cfg.units.find((u) => u.name === name)
  if (!unit) throw new Error(`no unit ${name} in ${cfg.units.map((u) => u.name).join(', ')}`)
  return unit
}

interface Expected {
  key: string
  line: number
  column: number
  message: string
  hint?: string
}

/** Exactly one error, at `key`/`line`/`column`, whose message (and hint) contain the fragments. */
function expectOnlyError(text: string, expected: Expected, options: LoadOptions = {}): void {
  const found = errors(text, options)
  expect(found, describeIssues(found)).toHaveLength(1)
  expect(found[0]).toMatchObject({key: expected.key, line: expected.line, column: expected.column})
  expect(found[0].message).toContain(expected.message)
  if (expected.hint !== undefined) expect(found[0].hint).toContain(expected.hint)
}

/** Line and column (1-based) of the first occurrence of `needle` in `text`. */
function pos(text: string, needle: string): {line: number; column: number} {
  const offset = text.indexOf(needle)
  if (offset === -1) throw new Error(`${needle} not in text`)
  const before = text.slice(0, offset).split('\n')
  return {line: before.length, column: before.at(-1)!.length + 1}
}

const sectionOf = (kind: Kind) => (kind === 'task' ? 'tasks' : 'services')

/**
 * `[tasks.u]` / `[services.u]` with `line` on line 2 (so the key sits at 2:1), then a run
 * command unless the line supplies run or compose itself, then `extra`.
 */
function unitText(kind: Kind, line: string, extra = ''): string {
  const lines = [`[${sectionOf(kind)}.u]`, line]
  if (!/^(run|compose)\s*=/.test(line)) lines.push('run = "true"')
  if (extra) lines.push(extra)
  return lines.join('\n') + '\n'
}

const keyOf = (line: string) => line.slice(0, line.indexOf('=')).trim()

// ---------------------------------------------------------------------------------------------

describe('unit field defaults', () => {
  const taskDefaults: Omit<Unit, 'name' | 'kind'> = {
    run: 'true',
    description: '',
    group: '',
    cron: undefined,
    timezone: 'UTC',
    run_on_start: false,
    catch_up: 'latest',
    max_catch_up_runs: 100,
    jitter: 0,
    api_trigger: true,
    max_concurrent: 1,
    on_overlap: 'queue',
    queue_max: 100,
    timeout: 0,
    retry_attempts: 0,
    retry_delay: 5 * S,
    retry_backoff: 'constant',
    exit_codes: [0],
    restart: 'never',
    restart_delay: S,
    restart_backoff: 'exponential',
    healthy_after: 10 * S,
    start_retries: 3,
    instances: 1,
    placement: 'any_node',
    autostart: true,
    priority: 0,
    depends_on: [],
    graceful_stop: 5 * S,
    stop_signal: 'SIGTERM',
    shell: '/bin/sh',
    working_dir: '',
    env: {},
    env_file: '',
    secrets_file: '',
    user: '',
    umask: '',
    log_max_size: 100 * MiB,
    log_on_full: 'drop_old',
    keep_runs: 0,
    keep_for: 0,
    parameters: [],
    compose: undefined,
    notify: [],
  }
  // Only restart differs by kind (and a service's max_concurrent mirrors instances).
  const serviceDefaults = {...taskDefaults, restart: 'always'}

  it('lists a default for every unit field', () => {
    expect(Object.keys(taskDefaults).sort()).toEqual(Object.keys(UNIT_FIELDS).sort())
  })

  it('gives an unset task every documented default', () => {
    const cfg = config('[tasks.t]\nrun = "true"\n')
    expect(cfg.units).toStrictEqual([{name: 't', kind: 'task', ...taskDefaults}])
  })

  it('gives an unset service every documented default', () => {
    const cfg = config('[services.s]\nrun = "true"\n')
    expect(cfg.units).toStrictEqual([{name: 's', kind: 'service', ...serviceDefaults}])
  })

  // run has no default (it is required) and timezone's comes from [scheduler] or the host.
  it.each(Object.keys(UNIT_FIELDS).filter((k) => k !== 'run' && k !== 'timezone'))('%s: the field default function agrees with the table', (key) => {
    expect(UNIT_FIELDS[key].default('task')).toEqual(taskDefaults[key as keyof typeof taskDefaults])
    expect(UNIT_FIELDS[key].default('service')).toEqual(serviceDefaults[key as keyof typeof serviceDefaults])
  })
})

// ---------------------------------------------------------------------------------------------

type Accepted = [kind: Kind, line: string, expected: unknown, extra?: string, options?: LoadOptions]

const CRON = 'cron = "0 * * * *"'

const ACCEPTED: Accepted[] = [
  ['task', 'run = "echo hello"', 'echo hello'],
  ['task', 'run = """\necho one\necho two"""', 'echo one\necho two'],
  ['service', 'run = "exec sleep infinity"', 'exec sleep infinity'],
  ['task', 'description = "nightly backup"', 'nightly backup'],
  ['service', 'description = ""', ''],
  ['task', 'group = "db"', 'db'],
  ['service', 'group = "web"', 'web'],
  ['task', 'cron = "0 3 * * *"', '0 3 * * *'],
  ['task', 'cron = "@every 1s"', '@every 1s'],
  ['task', 'cron = "*/10 * * * * *"', '*/10 * * * * *'],
  ['task', 'cron = "0 9 * * MON-FRI"', '0 9 * * MON-FRI'],
  ['task', 'cron = "0 0 29 2 *"', '0 0 29 2 *'],
  ['task', 'cron = "@daily"', '@daily'],
  ['task', 'timezone = "Europe/Bratislava"', 'Europe/Bratislava', CRON],
  ['task', 'timezone = "America/New_York"', 'America/New_York', CRON],
  ['task', 'timezone = "utc"', 'UTC', CRON],
  ['task', 'run_on_start = true', true],
  ['task', 'run_on_start = false', false],
  ['task', 'catch_up = "all"', 'all'],
  ['task', 'catch_up = "skip"', 'skip'],
  ['task', 'catch_up = "latest"', 'latest'],
  ['task', 'max_catch_up_runs = 1', 1],
  ['task', 'max_catch_up_runs = 100000', 100_000],
  ['task', 'jitter = "24h"', 24 * H, CRON],
  ['task', 'jitter = "90s"', 90 * S, CRON],
  ['task', 'jitter = 1500000000', 1.5 * S, CRON],
  ['task', 'jitter = "0s"', 0, CRON],
  ['task', 'api_trigger = false', false],
  ['service', 'api_trigger = false', false],
  ['task', 'max_concurrent = 1', 1],
  ['task', 'max_concurrent = 1024', 1024],
  ['task', 'on_overlap = "skip"', 'skip'],
  ['task', 'on_overlap = "terminate"', 'terminate'],
  ['task', 'on_overlap = "queue"', 'queue'],
  ['task', 'queue_max = 1', 1],
  ['task', 'queue_max = 10000', 10_000],
  ['task', 'timeout = "1h30m"', 90 * MIN],
  ['task', 'timeout = "1.5s"', 1.5 * S],
  ['task', 'timeout = 2500000000', 2.5 * S],
  ['task', 'timeout = 0', 0],
  ['task', 'timeout = "0s"', 0],
  ['service', 'timeout = "2d"', 2 * D],
  ['task', 'retry_attempts = 0', 0],
  ['task', 'retry_attempts = 100', 100],
  ['task', 'retry_delay = "250ms"', 250 * MS],
  ['task', 'retry_delay = "0s"', 0],
  ['task', 'retry_backoff = "linear"', 'linear'],
  ['task', 'retry_backoff = "exponential"', 'exponential'],
  ['task', 'exit_codes = [0, 1, 255]', [0, 1, 255]],
  ['task', 'exit_codes = [3]', [3]],
  ['service', 'exit_codes = [0, 143]', [0, 143]],
  ['task', 'restart = "never"', 'never'],
  ['service', 'restart = "on_failure"', 'on_failure'],
  ['service', 'restart = "never"', 'never'],
  ['service', 'restart = "always"', 'always'],
  ['service', 'restart_delay = "2s"', 2 * S],
  ['service', 'restart_delay = "0s"', 0],
  ['service', 'restart_backoff = "constant"', 'constant'],
  ['service', 'restart_backoff = "linear"', 'linear'],
  ['service', 'healthy_after = "1m"', MIN],
  ['service', 'healthy_after = "0s"', 0],
  ['service', 'start_retries = 0', 0],
  ['service', 'start_retries = 1000', 1000],
  ['service', 'instances = 1', 1],
  ['service', 'instances = 64', 64],
  ['service', 'autostart = false', false],
  ['service', 'priority = -10', -10],
  ['service', 'priority = 5', 5],
  ['service', 'placement = "every_node"', 'every_node'],
  ['service', 'placement = "any_node"', 'any_node'],
  ['service', 'depends_on = []', []],
  ['service', 'depends_on = ["db"]', ['db'], '[services.db]\nrun = "true"'],
  ['task', 'graceful_stop = "0s"', 0],
  ['task', 'graceful_stop = "1.5s"', 1.5 * S],
  ['service', 'graceful_stop = "30s"', 30 * S],
  ['task', 'stop_signal = "SIGKILL"', 'SIGKILL'],
  ['service', 'stop_signal = "SIGUSR2"', 'SIGUSR2'],
  ['service', 'stop_signal = "SIGINT"', 'SIGINT'],
  ['task', 'shell = "/bin/bash"', '/bin/bash'],
  ['service', 'shell = "/bin/sh"', '/bin/sh'],
  ['task', 'working_dir = "/"', '/'],
  ['task', 'working_dir = "data"', join(TMP, 'data')],
  ['task', 'working_dir = "../elsewhere"', join(TMP, '..', 'elsewhere')],
  ['task', 'working_dir = "~/work"', `${HOME}/work`],
  ['service', 'working_dir = "~"', HOME],
  ['task', 'env = { A = "1", B = "two" }', {A: '1', B: 'two'}],
  ['service', 'env = { _X = "" }', {_X: ''}],
  ['task', 'env_file = "app.env"', join(TMP, 'app.env')],
  ['service', `env_file = "${join(TMP, 'app.env')}"`, join(TMP, 'app.env')],
  ['task', 'secrets_file = "app.env"', join(TMP, 'app.env')],
  ['task', 'user = "nobody"', 'nobody', '', {isRoot: true}],
  ['service', 'user = "1000:1000"', '1000:1000', '', {isRoot: true}],
  ['task', 'user = "www-data:adm"', 'www-data:adm', '', {isRoot: true}],
  ['task', 'umask = "027"', '027'],
  ['service', 'umask = "0022"', '0022'],
  ['task', 'log_max_size = "10MB"', 10 * MiB],
  ['task', 'log_max_size = "512kb"', 512 * KiB],
  ['service', 'log_max_size = "1.5gb"', 1.5 * GiB],
  ['task', 'log_max_size = 1', 1],
  ['task', 'log_max_size = 4096', 4096],
  ['task', 'log_on_full = "drop_new"', 'drop_new'],
  ['task', 'log_on_full = "kill_task"', 'kill_task'],
  ['service', 'log_on_full = "drop_old"', 'drop_old'],
  ['task', 'keep_runs = 0', 0],
  ['task', 'keep_runs = 50', 50],
  ['task', 'keep_for = "2w"', 14 * D],
  ['task', 'keep_for = "36h"', 36 * H],
  ['service', 'keep_for = "0s"', 0],
  [
    'task',
    'parameters = [{ key = "REGION", kind = "env", default = "eu" }]',
    [{key: 'REGION', kind: 'env', type: 'string', required: false, default: 'eu', choices: undefined, allow_custom: false, description: ''}],
  ],
  ['task', 'compose = { file = "docker-compose.yml", project_name = "shop", service = "web" }', {file: join(TMP, 'docker-compose.yml'), project_name: 'shop', service: 'web'}],
  ['service', 'compose = { file = "/srv/compose.yml", project_name = "shop" }', {file: '/srv/compose.yml', project_name: 'shop'}, 'run = "true"'],
  ['task', 'notify = ["ops"]', ['ops'], '[notifiers.ops]\nkind = "ntfy"\ntopic = "alerts"'],
  ['service', 'notify = []', []],
]

describe('accepted unit values', () => {
  it('covers every unit field', () => {
    expect([...new Set(ACCEPTED.map(([, line]) => keyOf(line)))].sort()).toEqual(Object.keys(UNIT_FIELDS).sort())
  })

  it.each(ACCEPTED)('%s: %s', (kind, line, expected, extra = '', options = {}) => {
    const cfg = config(unitText(kind, line, extra), options)
    const unit = unitOf(cfg, 'u')
    expect(unit.kind).toBe(kind)
    expect(unit[keyOf(line) as keyof Unit]).toStrictEqual(expected)
  })

  it('a unit with compose and no run runs its Compose service: up for a service, run --rm for a task', () => {
    const service = unitOf(config(unitText('service', 'compose = { file = "c.yml", project_name = "p", service = "web" }')), 'u')
    expect(service.compose).toEqual({file: join(TMP, 'c.yml'), project_name: 'p', service: 'web'})
    expect(service.run).toBe(`exec docker compose -p p -f ${join(TMP, 'c.yml')} up --no-deps --no-log-prefix --exit-code-from web web`)
    const task = unitOf(config(unitText('task', `compose = { file = "~/my stack/c.yml", project_name = "p", service = "db-backup" }`)), 'u')
    expect(task.run).toBe(`exec docker compose -p p -f '${HOME}/my stack/c.yml' run --rm db-backup`)
  })

  it("a compose task passes env parameters into the container by name and the others as the command's arguments", () => {
    const text = unitText('task', 'compose = { file = "/c.yml", project_name = "p", service = "job" }', 'parameters = [{ key = "MODE", kind = "env" }, { key = "--full", kind = "flag" }]')
    expect(unitOf(config(text), 'u').run).toBe('exec docker compose -p p -f /c.yml run --rm -e MODE job "$@"')
  })

  it('a run written next to compose wins', () => {
    expect(unitOf(config(unitText('task', 'run = "make backup"', 'compose = { file = "c.yml", project_name = "p", service = "x" }')), 'u').run).toBe('make backup')
  })

  it("a service's max_concurrent is its instance count", () => {
    expect(unitOf(config(unitText('service', 'instances = 7')), 'u').max_concurrent).toBe(7)
  })

  it('stores the parsed cron schedule alongside the unit', () => {
    const cfg = config(unitText('task', 'cron = "@every 90s"') + '[tasks.manual]\nrun = "true"\n')
    expect(cfg.schedules.get('u')).toEqual({type: 'every', source: '@every 90s', intervalMs: 90_000})
    expect(cfg.schedules.get('manual')).toBeUndefined()
    expect(cfg.schedules.size).toBe(1)
  })
})

// ---------------------------------------------------------------------------------------------

interface Rejected {
  kind: Kind
  line: string
  message: string
  hint?: string
  extra?: string
  options?: LoadOptions
}

const r = (kind: Kind, line: string, message: string, more: Partial<Rejected> = {}): Rejected => ({kind, line, message, ...more})
const TASKS_ONLY = 'applies to tasks only'
const SERVICES_ONLY = 'applies to services only'

const REJECTED: Rejected[] = [
  r('task', 'run = ""', 'must not be empty'),
  r('task', 'run = "   "', 'must not be empty'),
  r('service', 'run = 5', 'expected a string, got the integer 5'),
  r('task', 'description = 5', 'expected a string, got the integer 5'),
  r('service', 'group = true', 'expected a string, got the boolean true'),
  r('task', 'cron = ""', 'must not be empty'),
  r('task', 'cron = 5', 'expected a string, got the integer 5'),
  r('service', 'cron = "* * * * *"', TASKS_ONLY, {hint: 'declare a scheduled job under [tasks]'}),
  r('task', 'timezone = 1', 'expected a string, got the integer 1'),
  r('task', 'timezone = "Mars/Olympus"', 'unknown time zone "Mars/Olympus"', {hint: 'use an IANA zone name', extra: CRON}),
  r('service', 'timezone = "UTC"', TASKS_ONLY),
  r('task', 'run_on_start = "yes"', 'expected true or false, got the string "yes"'),
  r('service', 'run_on_start = true', TASKS_ONLY),
  r('task', 'catch_up = "sometimes"', 'must be one of "latest", "all", "skip", got the string "sometimes"'),
  r('task', 'catch_up = "ALL"', 'must be one of', {hint: 'did you mean "all"?'}),
  r('service', 'catch_up = "skip"', TASKS_ONLY),
  r('task', 'max_catch_up_runs = 0', 'must be between 1 and 100000, got 0'),
  r('task', 'max_catch_up_runs = 100001', 'must be between 1 and 100000, got 100001'),
  r('task', 'max_catch_up_runs = "5"', 'expected an integer, got the string "5"'),
  r('service', 'max_catch_up_runs = 5', TASKS_ONLY),
  r('task', 'jitter = "24h1s"', 'must be at most 1d, got 24h1s', {extra: CRON}),
  r('task', 'jitter = 86400000000001', 'must be at most 1d', {extra: CRON}),
  r('task', 'jitter = "soon"', 'expected a duration such as "300ms", "5s", "1h30m", "2d", got the string "soon"', {extra: CRON}),
  r('task', 'jitter = -1', 'must be at least 0s, got -1', {extra: CRON}),
  r('task', 'jitter = "30s"', 'jitter needs cron'),
  r('service', 'jitter = "30s"', TASKS_ONLY),
  r('task', 'api_trigger = "no"', 'expected true or false, got the string "no"'),
  r('service', 'api_trigger = 0', 'expected true or false, got the integer 0'),
  r('task', 'max_concurrent = 0', 'must be between 1 and 1024, got 0'),
  r('task', 'max_concurrent = 1025', 'must be between 1 and 1024, got 1025'),
  r('task', 'max_concurrent = 2.5', 'expected an integer, got the float 2.5'),
  r('service', 'max_concurrent = 2', TASKS_ONLY),
  r('task', 'on_overlap = "wait"', 'must be one of "queue", "skip", "terminate", got the string "wait"'),
  r('service', 'on_overlap = "skip"', TASKS_ONLY),
  r('task', 'queue_max = 0', 'must be between 1 and 10000, got 0'),
  r('task', 'queue_max = 10001', 'must be between 1 and 10000, got 10001'),
  r('service', 'queue_max = 5', TASKS_ONLY),
  r('task', 'timeout = "5 minutes"', 'expected a duration such as'),
  r('task', 'timeout = "5x"', 'got the string "5x"'),
  r('task', 'timeout = "-5s"', 'expected a duration such as'),
  r('task', 'timeout = -5', 'must be at least 0s, got -5'),
  r('task', 'timeout = 1.5', 'got the float 1.5'),
  r('service', 'timeout = 1979-05-27', 'got a date'),
  r('task', 'retry_attempts = -1', 'must be between 0 and 100, got -1'),
  r('task', 'retry_attempts = 101', 'must be between 0 and 100, got 101'),
  r('service', 'retry_attempts = 3', TASKS_ONLY, {hint: 'services restart with restart, restart_delay and restart_backoff'}),
  r('task', 'retry_delay = "fast"', 'expected a duration such as'),
  r('service', 'retry_delay = "1s"', TASKS_ONLY, {hint: 'services restart with restart'}),
  r('task', 'retry_backoff = "fibonacci"', 'must be one of "constant", "linear", "exponential"'),
  r('service', 'retry_backoff = "linear"', TASKS_ONLY),
  r('task', 'exit_codes = []', 'must not be empty'),
  r('task', 'exit_codes = [256]', 'element 0: must be between 0 and 255, got 256'),
  r('task', 'exit_codes = [0, -1]', 'element 1: must be between 0 and 255, got -1'),
  r('service', 'exit_codes = ["0"]', 'element 0: expected an integer, got the string "0"'),
  r('task', 'exit_codes = 0', 'expected an array, got the integer 0'),
  r('task', 'restart = "always"', 'tasks accept only restart = "never", got "always"', {hint: 'use retry_attempts to retry a failed task, or declare it under [services]'}),
  r('task', 'restart = "on_failure"', 'tasks accept only restart = "never", got "on_failure"', {hint: 'retry_attempts'}),
  r('service', 'restart = "sometimes"', 'must be one of "never", "always", "on_failure"'),
  r('service', 'restart_delay = "x"', 'expected a duration such as'),
  r('service', 'restart_delay = -1', 'must be at least 0s'),
  r('task', 'restart_delay = "1s"', SERVICES_ONLY, {hint: 'tasks retry with retry_attempts, retry_delay and retry_backoff'}),
  r('service', 'restart_backoff = "random"', 'must be one of "constant", "linear", "exponential"'),
  r('task', 'restart_backoff = "linear"', SERVICES_ONLY, {hint: 'tasks retry with retry_attempts'}),
  r('service', 'healthy_after = "-1s"', 'expected a duration such as'),
  r('task', 'healthy_after = "10s"', SERVICES_ONLY, {hint: 'declare the unit under [services] to use it'}),
  r('service', 'start_retries = -1', 'must be between 0 and 1000, got -1'),
  r('service', 'start_retries = 1001', 'must be between 0 and 1000, got 1001'),
  r('task', 'start_retries = 3', SERVICES_ONLY),
  r('service', 'instances = 0', 'must be between 1 and 64, got 0'),
  r('service', 'instances = 65', 'must be between 1 and 64, got 65'),
  r('service', 'instances = "2"', 'expected an integer, got the string "2"'),
  r('task', 'instances = 2', SERVICES_ONLY, {hint: 'declare the unit under [services] to use it'}),
  r('service', 'autostart = "true"', 'expected true or false, got the string "true"'),
  r('task', 'autostart = false', SERVICES_ONLY),
  r('service', 'priority = 1.5', 'expected an integer, got the float 1.5'),
  r('service', 'priority = "high"', 'expected an integer, got the string "high"'),
  r('task', 'priority = 1', SERVICES_ONLY),
  r('service', 'placement = "everywhere"', 'must be one of "any_node", "every_node", got the string "everywhere"'),
  r('task', 'placement = "every_node"', SERVICES_ONLY),
  r('service', 'depends_on = "db"', 'expected an array, got the string "db"'),
  r('service', 'depends_on = [""]', 'element 0: must not be empty'),
  r('service', 'depends_on = [1]', 'element 0: expected a string, got the integer 1'),
  r('task', 'depends_on = ["db"]', SERVICES_ONLY),
  r('task', 'graceful_stop = "forever"', 'expected a duration such as'),
  r('service', 'graceful_stop = -1', 'must be at least 0s, got -1'),
  r('task', 'stop_signal = "SIGSTOP"', 'must be one of "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGKILL", "SIGUSR1", "SIGUSR2"'),
  r('task', 'stop_signal = "sigterm"', 'must be one of', {hint: 'did you mean "SIGTERM"?'}),
  r('service', 'stop_signal = 15', 'got the integer 15'),
  r('task', 'shell = "sh"', 'must be an absolute path, got "sh"'),
  r('service', 'shell = ""', 'must not be empty'),
  r('task', 'working_dir = ""', 'must not be empty'),
  r('service', 'working_dir = 5', 'expected a string, got the integer 5'),
  r('task', 'env = "A=1"', 'expected a table of NAME = "value", got the string "A=1"'),
  r('task', 'env = { "1A" = "x" }', '"1A" is not a valid environment variable name'),
  r('service', 'env = { A = 1 }', 'A: expected a string, got the integer 1', {hint: 'quote it: A = "1"'}),
  r('task', 'env_file = ""', 'must not be empty'),
  r('task', 'env_file = "missing.env"', `file ${join(TMP, 'missing.env')} does not exist`, {hint: 'relative paths are relative to the config file'}),
  r('service', 'secrets_file = 1', 'expected a string, got the integer 1'),
  r('task', 'secrets_file = "no-secrets.env"', `file ${join(TMP, 'no-secrets.env')} does not exist`),
  r('task', 'user = ""', 'must not be empty'),
  r('task', 'user = "nobody"', 'user = "nobody" needs the daemon to run as root', {hint: 'run sched serve as root'}),
  r('service', 'user = "1000"', 'needs the daemon to run as root', {options: {isRoot: false}}),
  r('task', 'user = "a:b:c"', 'expected "user" or "user:group", got "a:b:c"', {options: {isRoot: true}}),
  r('task', 'user = "bad user"', 'expected "user" or "user:group"', {options: {isRoot: true}}),
  r('task', 'umask = 27', 'expected a string, got the integer 27', {hint: 'write it as an octal string'}),
  r('task', 'umask = "999"', 'must be an octal mask such as "027" or "0022", got the string "999"'),
  r('service', 'umask = "27"', 'must be an octal mask'),
  r('task', 'log_max_size = 0', 'must be at least 1 bytes, got 0'),
  r('task', 'log_max_size = "0kb"', 'must be at least 1 bytes, got 0kb'),
  r('task', 'log_max_size = "10 parsecs"', 'expected a size such as "512kb", "10MB", "1.5gb" or an integer number of bytes'),
  r('service', 'log_max_size = 1.5', 'got the float 1.5'),
  r('task', 'log_max_size = -1', 'must be at least 1 bytes, got -1'),
  r('task', 'log_on_full = "truncate"', 'must be one of "drop_new", "drop_old", "kill_task"'),
  r('task', 'keep_runs = -1', 'must be at least 0, got -1'),
  r('service', 'keep_runs = "10"', 'expected an integer, got the string "10"'),
  r('task', 'keep_for = "a week"', 'expected a duration such as'),
  r('task', 'keep_for = -1', 'must be at least 0s'),
  r('task', 'parameters = "REGION"', 'expected an array of parameter tables, got the string "REGION"'),
  r('service', 'parameters = []', TASKS_ONLY),
  r('task', 'compose = "docker-compose.yml"', 'expected a table {file, project_name, service}'),
  r('task', 'compose = { file = "c.yml" }', 'compose needs project_name'),
  r('service', 'compose = { file = "c.yml", project_name = "p" }', 'compose names no service, so service "u" has nothing to run'),
  r('service', 'compose = { project_name = "p" }', 'compose needs file'),
  r('task', 'notify = "ops"', 'expected an array, got the string "ops"'),
  r('service', 'notify = [""]', 'element 0: must not be empty'),
]

describe('rejected unit values', () => {
  it('covers every unit field', () => {
    expect([...new Set(REJECTED.map(({line}) => keyOf(line)))].sort()).toEqual(Object.keys(UNIT_FIELDS).sort())
  })

  it.each(REJECTED)('$kind: $line → $message', ({kind, line, message, hint, extra, options}) => {
    expectOnlyError(unitText(kind, line, extra), {key: `${sectionOf(kind)}.u.${keyOf(line)}`, line: 2, column: 1, message, hint}, options)
  })

  it.each(['task', 'service'] as const)('a %s without run (and without compose) is an error at its table header', (kind) => {
    expectOnlyError(`# comment\n[${sectionOf(kind)}.lazy]\ndescription = "no command"\n`, {
      key: `${sectionOf(kind)}.lazy`,
      line: 2,
      column: 1,
      message: `${kind} "lazy" has no run command`,
      hint: 'add run = "the command to execute"',
    })
  })

  it('an unknown compose key is reported at that key inside the inline table', () => {
    const text = unitText('task', 'compose = { file = "c.yml", project_name = "p", port = 80 }')
    expectOnlyError(text, {key: 'tasks.u.compose.port', ...pos(text, 'port'), message: 'unknown compose key "port"', hint: 'known: file, project_name, service'})
  })

  it('an empty compose file is reported at compose.file', () => {
    const text = unitText('task', 'compose = { file = "", project_name = "p" }')
    expectOnlyError(text, {key: 'tasks.u.compose.file', ...pos(text, 'file'), message: 'must not be empty'})
  })

  it('reports a key written in an inline unit table at its own position', () => {
    const text = '[tasks]\nnightly = { run = "true", timeout = "later" }\n'
    expectOnlyError(text, {key: 'tasks.nightly.timeout', line: 2, column: 27, message: 'got the string "later"'})
  })

  it('reports a key written with dotted keys and a quoted unit name', () => {
    const text = 'tasks."db.backup".run = "true"\ntasks."db.backup".queue_max = 0\n'
    expectOnlyError(text, {key: 'tasks."db.backup".queue_max', line: 2, column: 1, message: 'must be between 1 and 10000, got 0'})
  })
})

// ---------------------------------------------------------------------------------------------

describe('keys on the wrong kind', () => {
  const taskOnly = Object.keys(UNIT_FIELDS).filter((k) => UNIT_FIELDS[k].applies === 'task')
  const serviceOnly = Object.keys(UNIT_FIELDS).filter((k) => UNIT_FIELDS[k].applies === 'service')

  it('match the T and S marks of the spec', () => {
    expect(taskOnly.sort()).toEqual(
      ['catch_up', 'cron', 'jitter', 'max_catch_up_runs', 'max_concurrent', 'on_overlap', 'parameters', 'queue_max', 'retry_attempts', 'retry_backoff', 'retry_delay', 'run_on_start', 'timezone'].sort(),
    )
    expect(serviceOnly.sort()).toEqual(['autostart', 'depends_on', 'healthy_after', 'instances', 'placement', 'priority', 'restart_backoff', 'restart_delay', 'start_retries'])
  })

  // The kind check comes before the value is read: whatever the value, the message is the same.
  it.each(taskOnly)('%s on a service → applies to tasks only', (key) => {
    expectOnlyError(`[services.svc]\n${key} = 1\nrun = "true"\n`, {key: `services.svc.${key}`, line: 2, column: 1, message: `"${key}" applies to tasks only`})
  })

  it.each(serviceOnly)('%s on a task → applies to services only', (key) => {
    expectOnlyError(`[tasks.job]\nrun = "true"\n${key} = 1\n`, {key: `tasks.job.${key}`, line: 3, column: 1, message: `"${key}" applies to services only`})
  })
})

describe('unknown keys', () => {
  it.each<[Kind, string, string | undefined]>([
    ['task', 'retry_delya', 'did you mean "retry_delay"?'],
    ['task', 'timout', 'did you mean "timeout"?'],
    ['task', 'Cron', 'did you mean "cron"?'],
    ['service', 'instnaces', 'did you mean "instances"?'],
    ['service', 'helthy_after', 'did you mean "healthy_after"?'],
    ['task', 'frobnicate', undefined],
  ])('%s: %s', (kind, key, hint) => {
    const found = errors(unitText(kind, `${key} = "1s"`))
    expect(found).toStrictEqual([
      {key: `${sectionOf(kind)}.u.${key}`, line: 2, column: 1, message: `unknown key "${key}"`, ...(hint ? {hint} : {})},
    ])
  })

  it('suggests only keys of the unit kind', () => {
    // "instances" is one edit away, but a task cannot have it
    expect(errors(unitText('task', 'instance = 2'))[0]).toStrictEqual({key: 'tasks.u.instance', line: 2, column: 1, message: 'unknown key "instance"'})
  })

  it.each<[string, string]>([
    ['task', 'did you mean [tasks]?'],
    ['Services', 'did you mean [services]?'],
    ['default', 'did you mean [defaults]?'],
    ['jobs', 'the file holds [daemon], [scheduler], [cluster], [defaults], [tasks], [services], [notifiers], [[route]]'],
  ])('unknown top-level table [%s.x]', (table, hint) => {
    expect(errors(`\n[${table}.x]\nrun = "true"\n`)).toStrictEqual([{key: table, line: 2, column: 1, message: `unknown table or key "${table}"`, hint}])
  })

  it('a top-level key that is not a table', () => {
    expect(errors('timeout = "5s"\n[tasks.t]\nrun = "true"\n')).toStrictEqual([
      {key: 'timeout', line: 1, column: 1, message: 'unknown table or key "timeout"', hint: 'the file holds [daemon], [scheduler], [cluster], [defaults], [tasks], [services], [notifiers], [[route]]'},
    ])
  })

  it('[tasks] must be a table of tables', () => {
    expect(errors('tasks = 5\n')).toStrictEqual([{key: 'tasks', line: 1, column: 1, message: 'expected a table of tasks, got the integer 5', hint: 'write [tasks.NAME] tables'}])
    expect(errors('[tasks]\nt = "echo"\n')).toStrictEqual([
      {key: 'tasks.t', line: 2, column: 1, message: 'expected a table, got the string "echo"', hint: 'write [tasks.t] followed by its keys'},
    ])
  })
})

// ---------------------------------------------------------------------------------------------

describe('[daemon] and [scheduler]', () => {
  it('defaults when unset', () => {
    const cfg = config('')
    expect(cfg.daemon).toStrictEqual({host: '127.0.0.1', port: 9477, shutdown_timeout: 10 * S, state_dir: undefined, max_storage: 0, public_url: undefined})
    expect(cfg.scheduler).toStrictEqual({timezone: 'UTC'})
    expect(Object.keys(DAEMON_FIELDS).sort()).toEqual(['host', 'max_storage', 'port', 'public_url', 'shutdown_timeout', 'state_dir'])
  })

  it.each<[string, keyof Config['daemon'], unknown]>([
    ['host = "0.0.0.0"', 'host', '0.0.0.0'],
    ['host = "::1"', 'host', '::1'],
    ['port = 1', 'port', 1],
    ['port = 65535', 'port', 65_535],
    ['port = 0', 'port', 0],
    ['shutdown_timeout = "30s"', 'shutdown_timeout', 30 * S],
    ['shutdown_timeout = "0s"', 'shutdown_timeout', 0],
    ['shutdown_timeout = 2000000000', 'shutdown_timeout', 2 * S],
    ['state_dir = "state"', 'state_dir', join(TMP, 'state')],
    ['state_dir = "/var/lib/sched"', 'state_dir', '/var/lib/sched'],
    ['state_dir = "~/.local/state/sched"', 'state_dir', `${HOME}/.local/state/sched`],
    ['max_storage = "1gb"', 'max_storage', GiB],
    ['max_storage = 0', 'max_storage', 0],
    ['max_storage = 5000', 'max_storage', 5000],
  ])('[daemon] %s', (line, key, expected) => {
    expect(config(`[daemon]\n${line}\n`).daemon[key]).toStrictEqual(expected)
  })

  it.each<[string, string, string?]>([
    ['host = ""', 'must not be empty'],
    ['host = 127', 'expected a string, got the integer 127'],
    ['port = 65536', 'must be between 0 and 65535, got 65536'],
    ['port = -1', 'must be between 0 and 65535, got -1'],
    ['port = "9477"', 'expected an integer, got the string "9477"'],
    ['shutdown_timeout = "soon"', 'expected a duration such as'],
    ['shutdown_timeout = -1', 'must be at least 0s, got -1'],
    ['state_dir = ""', 'must not be empty'],
    ['state_dir = 5', 'expected a string, got the integer 5'],
    ['max_storage = "-1"', 'expected a size such as'],
    ['max_storage = "lots"', 'expected a size such as'],
    ['max_storage = -1', 'must be at least 0 bytes, got -1'],
    ['prot = 1', 'unknown key "prot" in [daemon]', 'did you mean "port"?'],
    ['timeout = "5s"', 'unknown key "timeout" in [daemon]; timeout is a unit key, set it per unit or in [defaults]', '[daemon] holds host, port, shutdown_timeout, state_dir, max_storage'],
  ])('[daemon] %s → error', (line, message, hint) => {
    expectOnlyError(`[daemon]\n${line}\n`, {key: `daemon.${keyOf(line)}`, line: 2, column: 1, message, hint})
  })

  it('[scheduler] timezone is the zone of every unit without its own', () => {
    const cfg = config(`[scheduler]\ntimezone = "Europe/Bratislava"\n[tasks.a]\nrun = "true"\n${CRON}\n[tasks.b]\nrun = "true"\n${CRON}\ntimezone = "Asia/Tokyo"\n[services.s]\nrun = "true"\n`)
    expect(cfg.scheduler.timezone).toBe('Europe/Bratislava')
    expect(cfg.units.map((u) => [u.name, u.timezone])).toEqual([
      ['a', 'Europe/Bratislava'],
      ['b', 'Asia/Tokyo'],
      ['s', 'Europe/Bratislava'],
    ])
  })

  it('without [scheduler] timezone the host zone is used', () => {
    const cfg = config(`[tasks.a]\nrun = "true"\n${CRON}\n`, {hostZone: 'America/Chicago'})
    expect(cfg.scheduler.timezone).toBe('America/Chicago')
    expect(unitOf(cfg, 'a').timezone).toBe('America/Chicago')
  })

  it.each<[string, string, string?]>([
    ['timezone = "Europe/Bratislav"', 'unknown time zone "Europe/Bratislav"', 'did you mean "Europe/Bratislava"?'],
    ['timezone = "Nowhere/Special"', 'unknown time zone "Nowhere/Special"', 'use an IANA zone name such as "Europe/Bratislava" or "UTC"'],
    ['timezone = ""', 'must not be empty'],
    ['timezone = 2', 'expected a string, got the integer 2'],
    ['timzone = "UTC"', 'unknown key "timzone" in [scheduler]', 'did you mean "timezone"?'],
  ])('[scheduler] %s → error', (line, message, hint) => {
    expectOnlyError(`[scheduler]\n${line}\n`, {key: `scheduler.${keyOf(line)}`, line: 2, column: 1, message, hint})
  })

  it('[daemon] must be a table', () => {
    expect(errors('daemon = "x"\n')).toStrictEqual([{key: 'daemon', line: 1, column: 1, message: 'expected a table, got the string "x"'}])
  })
})

// ---------------------------------------------------------------------------------------------

describe('[defaults]', () => {
  writeFileSync(join(TMP, 'defaults.env'), 'FROM_DEFAULTS_FILE=1\n')
  writeFileSync(join(TMP, 'defaults-secrets.env'), 'DEFAULT_TOKEN=hunter22\n')

  it('may hold exactly the keys the spec marks inheritable', () => {
    expect([...INHERITABLE_KEYS].sort()).toEqual(
      [
        'catch_up',
        'max_catch_up_runs',
        'jitter',
        'timeout',
        'exit_codes',
        'restart_delay',
        'restart_backoff',
        'healthy_after',
        'start_retries',
        'graceful_stop',
        'stop_signal',
        'shell',
        'env',
        'env_file',
        'secrets_file',
        'log_max_size',
        'log_on_full',
        'keep_runs',
        'keep_for',
        'notify',
      ].sort(),
    )
  })

  const INHERITED: [line: string, kind: Kind, expected: unknown][] = [
    ['catch_up = "skip"', 'task', 'skip'],
    ['max_catch_up_runs = 7', 'task', 7],
    ['jitter = "30s"', 'task', 30 * S],
    ['timeout = "1m"', 'task', MIN],
    ['exit_codes = [0, 3]', 'service', [0, 3]],
    ['restart_delay = "3s"', 'service', 3 * S],
    ['restart_backoff = "linear"', 'service', 'linear'],
    ['healthy_after = "0s"', 'service', 0],
    ['start_retries = 9', 'service', 9],
    ['graceful_stop = "0s"', 'task', 0],
    ['stop_signal = "SIGINT"', 'service', 'SIGINT'],
    ['shell = "/bin/bash"', 'task', '/bin/bash'],
    ['env = { REGION = "eu" }', 'service', {REGION: 'eu'}],
    ['env_file = "defaults.env"', 'task', join(TMP, 'defaults.env')],
    ['secrets_file = "defaults-secrets.env"', 'service', join(TMP, 'defaults-secrets.env')],
    ['log_max_size = "1mb"', 'task', MiB],
    ['log_on_full = "kill_task"', 'service', 'kill_task'],
    ['keep_runs = 5', 'task', 5],
    ['keep_for = "1d"', 'service', D],
    ['notify = ["ops"]', 'task', ['ops']],
  ]

  it('the inheritance table covers every inheritable key', () => {
    expect(INHERITED.map(([line]) => keyOf(line)).sort()).toEqual([...INHERITABLE_KEYS].sort())
  })

  it.each(INHERITED)('[defaults] %s applies to a %s that does not set it', (line, kind, expected) => {
    // A cron schedule on the task keeps jitter meaningful.
    const body = kind === 'task' ? `run = "true"\n${CRON}` : 'run = "true"'
    // notify names a notifier: one is declared for every row (unused, it is only a warning).
    const cfg = config(`[defaults]\n${line}\n[${sectionOf(kind)}.u]\n${body}\n[notifiers.ops]\nkind = "ntfy"\ntopic = "alerts"\n`)
    expect(unitOf(cfg, 'u')[keyOf(line) as keyof Unit]).toStrictEqual(expected)
  })

  it("the unit's own value wins, including an explicit zero", () => {
    const cfg = config(`[defaults]
timeout = "1h"
keep_runs = 10
keep_for = "30d"
graceful_stop = "30s"
stop_signal = "SIGINT"
exit_codes = [0, 1]
[tasks.inherits]
run = "true"
[tasks.own]
run = "true"
timeout = 0
keep_runs = 0
keep_for = "0s"
graceful_stop = "0s"
stop_signal = "SIGHUP"
exit_codes = [2]
`)
    const pick = (u: Unit) => [u.timeout, u.keep_runs, u.keep_for, u.graceful_stop, u.stop_signal, u.exit_codes]
    expect(pick(unitOf(cfg, 'inherits'))).toStrictEqual([H, 10, 30 * D, 30 * S, 'SIGINT', [0, 1]])
    expect(pick(unitOf(cfg, 'own'))).toStrictEqual([0, 0, 0, 0, 'SIGHUP', [2]])
  })

  it('env maps merge per key, the unit winning', () => {
    const cfg = config(`[defaults.env]
A = "defaults"
B = "defaults"
[tasks.t]
run = "true"
env = { B = "unit", C = "unit" }
[services.s]
run = "true"
`)
    expect(unitOf(cfg, 't').env).toStrictEqual({A: 'defaults', B: 'unit', C: 'unit'})
    expect(unitOf(cfg, 's').env).toStrictEqual({A: 'defaults', B: 'defaults'})
  })

  it('task-only defaults do not reach services, service-only defaults do not reach tasks', () => {
    const cfg = config(`[defaults]
catch_up = "skip"
max_catch_up_runs = 5
jitter = "1m"
restart_delay = "9s"
restart_backoff = "constant"
healthy_after = "1s"
start_retries = 0
[tasks.t]
run = "true"
${CRON}
[services.s]
run = "true"
`)
    const t = unitOf(cfg, 't')
    const s = unitOf(cfg, 's')
    expect([s.catch_up, s.max_catch_up_runs, s.jitter]).toStrictEqual(['latest', 100, 0])
    expect([t.catch_up, t.max_catch_up_runs, t.jitter]).toStrictEqual(['skip', 5, MIN])
    expect([t.restart_delay, t.restart_backoff, t.healthy_after, t.start_retries]).toStrictEqual([S, 'exponential', 10 * S, 3])
    expect([s.restart_delay, s.restart_backoff, s.healthy_after, s.start_retries]).toStrictEqual([9 * S, 'constant', S, 0])
  })

  it('a jitter default is ignored (not an error) on a task without cron', () => {
    const cfg = config('[defaults]\njitter = "1m"\n[tasks.manual]\nrun = "true"\n')
    expect(unitOf(cfg, 'manual').jitter).toBe(0)
  })

  it('a catch_up = "all" default conflicts with a cron task that sets on_overlap = "skip"', () => {
    const text = '[defaults]\ncatch_up = "all"\n[tasks.t]\nrun = "true"\ncron = "@daily"\non_overlap = "skip"\n[tasks.ok]\nrun = "true"\n'
    expectOnlyError(text, {key: 'tasks.t.on_overlap', line: 6, column: 1, message: 'catch_up = "all" needs on_overlap = "queue" (it is "skip")'})
    expect(unitOf(config('[defaults]\ncatch_up = "all"\n[tasks.ok]\nrun = "true"\n'), 'ok').catch_up).toBe('all')
  })

  it('an inherited catch_up = "all" leaves a manual task with on_overlap = "skip" valid (catch-up concerns cron ticks)', () => {
    expect(unitOf(config('[defaults]\ncatch_up = "all"\n[tasks.m]\nrun = "true"\non_overlap = "skip"\n'), 'm').on_overlap).toBe('skip')
  })

  const NOT_INHERITABLE = Object.keys(UNIT_FIELDS).filter((k) => !UNIT_FIELDS[k].inheritable)

  it.each(NOT_INHERITABLE)('%s cannot be set in [defaults]', (key) => {
    const found = errors(`[defaults]\n${key} = "x"\n`)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({key: `defaults.${key}`, line: 2, column: 1, message: `"${key}" cannot be set in [defaults]`})
    expect(found[0].hint).toContain('set it on each unit; [defaults] takes catch_up, max_catch_up_runs, jitter, timeout')
  })

  it.each<[string, string, string?]>([
    ['timout = "1s"', 'unknown key "timout"', 'did you mean "timeout"?'],
    ['timeout = "eventually"', 'expected a duration such as'],
    ['exit_codes = []', 'must not be empty'],
    ['env = { "A-B" = "1" }', '"A-B" is not a valid environment variable name'],
    ['log_max_size = 0', 'must be at least 1 bytes, got 0'],
    ['catch_up = "never"', 'must be one of "latest", "all", "skip"'],
  ])('[defaults] %s → error', (line, message, hint) => {
    expectOnlyError(`[defaults]\n${line}\n[tasks.t]\nrun = "true"\n`, {key: `defaults.${keyOf(line)}`, line: 2, column: 1, message, hint})
  })
})

// ---------------------------------------------------------------------------------------------

describe('env_file and secrets_file', () => {
  const dir = join(TMP, 'dotenv')
  mkdirSync(join(dir, 'conf'), {recursive: true})
  writeFileSync(join(dir, 'defaults.env'), '# defaults\nA=defaults-file\nB=defaults-file\nC=defaults-file\nD=defaults-file\n')
  writeFileSync(join(dir, 'unit.env'), 'C=unit-file\nD=unit-file\nQUOTED="two words"\n')
  writeFileSync(join(dir, 'secrets.env'), 'TOKEN=s3cr3t-value\nD=from-secrets\n')
  writeFileSync(join(dir, 'other-secrets.env'), 'OTHER_TOKEN=0th3r-value\n')
  writeFileSync(join(dir, 'conf', 'nested.env'), 'NESTED=yes\n')
  const file = join(dir, 'sched.toml')
  const loadIn = (text: string) => {
    writeFileSync(file, text)
    return loadConfigFile(file, BASE)
  }
  const configIn = (text: string): Config => {
    const result = loadIn(text)
    if (!result.ok) throw new Error(describeIssues(result.errors))
    return result.config
  }

  it('merges daemon-side layers: [defaults] env_file < [defaults] env < unit env_file < unit env', () => {
    const cfg = configIn(`[defaults]
env_file = "defaults.env"
env = { B = "defaults-env", C = "defaults-env" }
[tasks.t]
run = "true"
env_file = "unit.env"
env = { D = "unit-env" }
`)
    const t = unitOf(cfg, 't')
    expect(t.env).toStrictEqual({A: 'defaults-file', B: 'defaults-env', C: 'unit-file', D: 'unit-env', QUOTED: 'two words'})
    expect(t.env_file).toBe(join(dir, 'unit.env'))
  })

  it('a unit without its own env_file gets the [defaults] one', () => {
    const cfg = configIn('[defaults]\nenv_file = "defaults.env"\n[services.s]\nrun = "true"\n')
    const s = unitOf(cfg, 's')
    expect(s.env_file).toBe(join(dir, 'defaults.env'))
    expect(s.env).toStrictEqual({A: 'defaults-file', B: 'defaults-file', C: 'defaults-file', D: 'defaults-file'})
  })

  it('paths are relative to the config file, not the working directory', () => {
    const cwd = process.cwd()
    expect(cwd).not.toBe(dir)
    const cfg = configIn('[tasks.t]\nrun = "true"\nenv_file = "conf/nested.env"\nworking_dir = "conf"\n')
    const t = unitOf(cfg, 't')
    expect(t.env_file).toBe(join(dir, 'conf', 'nested.env'))
    expect(t.env).toStrictEqual({NESTED: 'yes'})
    expect(t.working_dir).toBe(join(dir, 'conf'))
  })

  it('loadConfigText with a path in the directory resolves the same way', () => {
    const result = loadConfigText('[tasks.t]\nrun = "true"\nenv_file = "unit.env"\n', join(dir, 'whatever.toml'), BASE)
    expect(result.ok && unitOf(result.config, 't').env.C).toBe('unit-file')
  })

  it('~ expands to the home directory', () => {
    const result = loadConfigText('[tasks.t]\nrun = "true"\nenv_file = "~/unit.env"\n', CONFIG, {...BASE, home: dir})
    expect(result.ok && unitOf(result.config, 't').env_file).toBe(join(dir, 'unit.env'))
  })

  it('secrets stay out of Unit.env and live in config.secrets', () => {
    const cfg = configIn(`[tasks.t]
run = "true"
env = { D = "unit-env" }
secrets_file = "secrets.env"
[tasks.plain]
run = "true"
`)
    const t = unitOf(cfg, 't')
    expect(t.secrets_file).toBe(join(dir, 'secrets.env'))
    expect(t.env).toStrictEqual({D: 'unit-env'})
    expect(cfg.secrets.get('t')).toStrictEqual({TOKEN: 's3cr3t-value', D: 'from-secrets'})
    expect(cfg.secrets.has('plain')).toBe(false)
    expect(JSON.stringify(cfg.units)).not.toContain('s3cr3t')
    expect(JSON.stringify(cfg.units)).not.toContain('TOKEN')
  })

  it('[defaults] secrets_file applies unless the unit has its own, which replaces it', () => {
    const cfg = configIn(`[defaults]
secrets_file = "secrets.env"
[tasks.inherits]
run = "true"
[services.own]
run = "true"
secrets_file = "other-secrets.env"
`)
    expect(unitOf(cfg, 'inherits').secrets_file).toBe(join(dir, 'secrets.env'))
    expect(cfg.secrets.get('inherits')).toStrictEqual({TOKEN: 's3cr3t-value', D: 'from-secrets'})
    expect(unitOf(cfg, 'own').secrets_file).toBe(join(dir, 'other-secrets.env'))
    expect(cfg.secrets.get('own')).toStrictEqual({OTHER_TOKEN: '0th3r-value'})
  })

  it.each<[string, string, string]>([
    ['env_file', 'tasks.t.env_file', 'nope.env'],
    ['secrets_file', 'tasks.t.secrets_file', 'nope-secrets.env'],
  ])('a missing unit %s is a load error', (key, errorKey, name) => {
    const result = loadIn(`[tasks.t]\nrun = "true"\n${key} = "${name}"\n`)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.errors).toStrictEqual([
      {key: errorKey, line: 3, column: 1, message: `file ${join(dir, name)} does not exist`, hint: 'create it, or fix the path (relative paths are relative to the config file)'},
    ])
  })

  it.each(['env_file', 'secrets_file'])('a missing [defaults] %s is reported once, at [defaults], however many units use it', (key) => {
    const result = loadIn(`[tasks.a]\nrun = "true"\n[defaults]\n${key} = "gone.env"\n[tasks.b]\nrun = "true"\n[services.c]\nrun = "true"\n`)
    expect(!result.ok && result.errors).toStrictEqual([
      {key: `defaults.${key}`, line: 4, column: 1, message: `file ${join(dir, 'gone.env')} does not exist`, hint: 'create it, or fix the path (relative paths are relative to the config file)'},
    ])
  })

  it('a missing config file is an error without position', () => {
    const missing = join(dir, 'absent.toml')
    const result = loadConfigFile(missing, BASE)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.errors).toHaveLength(1)
    expect(!result.ok && result.errors[0]).toMatchObject({key: '', line: 0, column: 0})
    expect(!result.ok && result.errors[0].message).toContain(`cannot read ${missing}`)
  })
})

// ---------------------------------------------------------------------------------------------

describe('cross-field rules', () => {
  it('user needs a root daemon', () => {
    const text = '[tasks.t]\nrun = "true"\nuser = "backup:backup"\n'
    expectOnlyError(text, {key: 'tasks.t.user', line: 3, column: 1, message: 'user = "backup:backup" needs the daemon to run as root', hint: 'remove user, or run sched serve as root'}, {isRoot: false})
    expect(unitOf(config(text, {isRoot: true}), 't').user).toBe('backup:backup')
  })

  it.each(['skip', 'terminate'])('catch_up = "all" with on_overlap = "%s" is an error at catch_up', (overlap) => {
    expectOnlyError(`[tasks.t]\nrun = "true"\non_overlap = "${overlap}"\ncatch_up = "all"\n`, {
      key: 'tasks.t.catch_up',
      line: 4,
      column: 1,
      message: `catch_up = "all" needs on_overlap = "queue" (it is "${overlap}")`,
      hint: 'catch-up runs wait their turn in the queue',
    })
  })

  it('catch_up = "all" with on_overlap queue, explicit or default, loads', () => {
    const cfg = config('[tasks.a]\nrun = "true"\ncatch_up = "all"\non_overlap = "queue"\n[tasks.b]\nrun = "true"\ncatch_up = "all"\n')
    expect(cfg.units.map((u) => [u.catch_up, u.on_overlap])).toEqual([
      ['all', 'queue'],
      ['all', 'queue'],
    ])
  })

  it('jitter without cron is an error; with cron it is kept', () => {
    expectOnlyError('[tasks.t]\nrun = "true"\njitter = "1m"\n', {key: 'tasks.t.jitter', line: 3, column: 1, message: 'jitter needs cron: it spreads scheduled starts'})
    expect(unitOf(config(`[tasks.t]\nrun = "true"\njitter = "1m"\n${CRON}\n`), 't').jitter).toBe(MIN)
  })

  it('placement = "every_node" runs one instance per node: instances above 1 is an error at instances', () => {
    expectOnlyError('[services.s]\nrun = "true"\ninstances = 2\nplacement = "every_node"\n', {
      key: 'services.s.instances',
      line: 3,
      column: 1,
      message: 'placement = "every_node" runs one instance on each node; instances must be 1, got 2',
      hint: 'remove instances, or use placement = "any_node" to run that many across the cluster',
    })
    expect(unitOf(config('[services.s]\nrun = "true"\ninstances = 1\nplacement = "every_node"\n'), 's').placement).toBe('every_node')
  })

  it('timezone on a task without cron only warns', () => {
    const result = load('[tasks.t]\nrun = "true"\ntimezone = "Asia/Tokyo"\n')
    expect(result.ok).toBe(true)
    expect(result.warnings).toStrictEqual([{key: 'tasks.t.timezone', line: 3, column: 1, message: 'timezone has no effect on a task without cron'}])
  })

  it('a small bare integer duration warns that it is nanoseconds', () => {
    const result = load('[tasks.t]\nrun = "true"\ntimeout = 30\n')
    expect(result.ok && unitOf(result.config, 't').timeout).toBe(30)
    expect(result.warnings).toStrictEqual([{key: 'tasks.t.timeout', line: 3, column: 1, message: 'timeout = 30 is 30 nanoseconds', hint: 'write "30s" for seconds'}])
  })
})

describe('explicit zero is not unset', () => {
  it.each<[kind: Kind, key: string, zero: string, defaultsLine: string | undefined, unset: number]>([
    ['task', 'timeout', '0', 'timeout = "1h"', H],
    ['task', 'timeout', '"0s"', 'timeout = "1h"', H],
    ['task', 'graceful_stop', '"0s"', undefined, 5 * S],
    ['service', 'graceful_stop', '0', 'graceful_stop = "20s"', 20 * S],
    ['task', 'keep_runs', '0', 'keep_runs = 10', 10],
    ['service', 'keep_for', '"0s"', 'keep_for = "7d"', 7 * D],
    ['task', 'retry_delay', '"0s"', undefined, 5 * S],
    ['service', 'restart_delay', '"0s"', 'restart_delay = "4s"', 4 * S],
    ['service', 'healthy_after', '"0s"', undefined, 10 * S],
    ['service', 'start_retries', '0', 'start_retries = 8', 8],
    ['task', 'jitter', '"0s"', 'jitter = "5m"', 5 * MIN],
  ])('%s %s = %s', (kind, key, zero, defaultsLine, unset) => {
    // Tasks get a cron schedule so that jitter applies.
    const table = (name: string) => `[${sectionOf(kind)}.${name}]\nrun = "true"\n${kind === 'task' ? `${CRON}\n` : ''}`
    const defaults = defaultsLine ? `[defaults]\n${defaultsLine}\n` : ''
    const cfg = config(`${defaults}${table('zero')}${key} = ${zero}\n${table('unset')}`)
    expect(unitOf(cfg, 'zero')[key as keyof Unit]).toBe(0)
    expect(unitOf(cfg, 'unset')[key as keyof Unit]).toBe(unset)
  })

  it('[daemon] shutdown_timeout = "0s" and max_storage = 0 are kept', () => {
    expect(config('[daemon]\nshutdown_timeout = "0s"\nmax_storage = 0\n').daemon).toMatchObject({shutdown_timeout: 0, max_storage: 0})
  })
})

// ---------------------------------------------------------------------------------------------

describe('depends_on', () => {
  it('names services that exist', () => {
    const cfg = config('[services.web]\nrun = "true"\ndepends_on = ["db", "cache"]\n[services.db]\nrun = "true"\n[services.cache]\nrun = "true"\n')
    expect(unitOf(cfg, 'web').depends_on).toStrictEqual(['db', 'cache'])
  })

  it('an unknown name, with a suggestion', () => {
    const text = '[services.db]\nrun = "true"\n[services.web]\nrun = "true"\ndepends_on = ["dbb"]\n'
    expectOnlyError(text, {key: 'services.web.depends_on[0]', line: 5, column: 15, message: 'unknown service "dbb"', hint: 'did you mean "db"?'})
  })

  it('a task', () => {
    const text = '[tasks.migrate]\nrun = "true"\n[services.web]\nrun = "true"\ndepends_on = ["migrate"]\n'
    expectOnlyError(text, {key: 'services.web.depends_on[0]', line: 5, column: 15, message: '"migrate" is a task; depends_on names services', hint: 'boot order applies to services only'})
  })

  it('itself', () => {
    const text = '[services.web]\nrun = "true"\ndepends_on = ["web"]\n'
    expectOnlyError(text, {key: 'services.web.depends_on[0]', line: 3, column: 15, message: 'service "web" depends on itself'})
  })

  it('a two-service cycle is reported once', () => {
    const text = '[services.a]\nrun = "true"\ndepends_on = ["b"]\n[services.b]\nrun = "true"\ndepends_on = ["a"]\n'
    expectOnlyError(text, {key: 'services.b.depends_on[0]', line: 6, column: 15, message: 'dependency cycle: a → b → a', hint: 'depends_on must not loop back'})
  })

  it('a three-service cycle names every member', () => {
    const text = '[services.a]\nrun = "true"\ndepends_on = ["b"]\n[services.b]\nrun = "true"\ndepends_on = ["c"]\n[services.c]\nrun = "true"\ndepends_on = ["x", "a"]\n[services.x]\nrun = "true"\n'
    expectOnlyError(text, {key: 'services.c.depends_on[1]', line: 9, column: 20, message: 'dependency cycle: a → b → c → a'})
  })

  it('an unreadable entry is reported once, and later names keep their own index', () => {
    const text = '[services.s]\nrun = "true"\ndepends_on = [5, "zz"]\n'
    expect(errors(text)).toStrictEqual([
      {key: 'services.s.depends_on', line: 3, column: 1, message: 'element 0: expected a string, got the integer 5'},
      {key: 'services.s.depends_on[1]', line: 3, column: 18, message: 'unknown service "zz"'},
    ])
  })

  it('every bad entry of one list is reported, at its own column', () => {
    const text = '[tasks.t]\nrun = "true"\n[services.s]\nrun = "true"\ndepends_on = ["t", "s", "zzz"]\n'
    expect(errors(text).map((e) => [e.key, e.line, e.column])).toStrictEqual([
      ['services.s.depends_on[0]', 5, 15],
      ['services.s.depends_on[1]', 5, 20],
      ['services.s.depends_on[2]', 5, 25],
    ])
  })
})

describe('unit names', () => {
  it.each(['a', '0', 'A-b_c.d:e', 'db.backup', 'x'.repeat(100), '...'])('%j is accepted', (name) => {
    const cfg = config(`[tasks.${JSON.stringify(name)}]\nrun = "true"\n`)
    expect(cfg.units.map((u) => u.name)).toStrictEqual([name])
  })

  it.each<[string, string]>([
    ['a b', 'must be 1-100 characters of letters, digits, ".", "_", ":" or "-"'],
    ['a/b', 'must be 1-100 characters'],
    ['', 'must be 1-100 characters'],
    ['x'.repeat(101), 'must be 1-100 characters'],
    ['café', 'must be 1-100 characters'],
    ['.', '"." is not a usable name'],
    ['..', '".." is not a usable name'],
  ])('%j is rejected', (name, message) => {
    const quoted = JSON.stringify(name)
    // Key paths quote a name only when it needs quoting in TOML.
    const shown = /^[A-Za-z0-9_-]+$/.test(name) ? name : quoted
    expectOnlyError(`\n[services.${quoted}]\nrun = "true"\n`, {key: `services.${shown}`, line: 2, column: 1, message})
  })

  it('the same name in tasks and services is an error at the second', () => {
    expectOnlyError('[tasks.sync]\nrun = "true"\n[services.sync]\nrun = "true"\n', {
      key: 'services.sync',
      line: 3,
      column: 1,
      message: 'name "sync" is already used by [tasks.sync]',
      hint: 'names are unique across tasks and services',
    })
  })

  it('units are sorted by name whatever their kind and order in the file', () => {
    const cfg = config('[tasks.zeta]\nrun = "1"\n[services.mid]\nrun = "2"\n[tasks.alpha]\nrun = "3"\n[services.Beta]\nrun = "4"\n[tasks."a.b"]\nrun = "5"\n')
    expect(cfg.units.map((u) => u.name)).toStrictEqual(['Beta', 'a.b', 'alpha', 'mid', 'zeta'])
    expect(cfg.units.map((u) => u.run)).toStrictEqual(['4', '5', '3', '2', '1'])
  })
})

describe('cron', () => {
  it.each<[string, string, string?]>([
    ['* * *', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got 3', 'e.g. "0 3 * * *"'],
    ['* * * * * * *', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got 7'],
    ['60 * * * *', 'minute value 60 is out of range 0-59'],
    ['0 24 * * *', 'hour value 24 is out of range 0-23'],
    ['0 0 32 * *', 'day-of-month value 32 is out of range 1-31'],
    ['0 0 0 * *', 'day-of-month value 0 is out of range 1-31'],
    ['0 0 * 13 *', 'month value 13 is out of range 1-12'],
    ['0 0 * * 8', 'day-of-week value 8 is out of range 0-7'],
    ['60 0 0 * * *', 'second value 60 is out of range 0-59'],
    ['0 0 * * FUN', 'day-of-week: "FUN" is not a number or a name'],
    ['0 5-1 * * *', 'hour range "5-1" runs backwards'],
    ['*/0 * * * *', 'minute "*/0": the step after "/" must be a positive number'],
    ['@reboot', '@reboot is not a schedule', 'set run_on_start = true to run the task when the daemon starts'],
    ['@every 500ms', '@every interval 500ms is below the 1s minimum'],
    ['@every 999ms', '@every interval 999ms is below the 1s minimum'],
    ['@every', '@every needs a duration, got ""'],
    ['@every soon', '@every needs a duration, got "soon"'],
    ['@fortnightly', 'unknown shortcut @fortnightly', 'use one of @yearly'],
  ])('%j is invalid', (cron, message, hint) => {
    expectOnlyError(`[tasks.t]\nrun = "true"\ncron = "${cron}"\n`, {key: 'tasks.t.cron', line: 3, column: 1, message: `invalid cron "${cron}": ${message}`, hint})
  })

  it.each(['0 0 30 2 *', '0 0 31 4 *', '0 0 31 2,4,6,9,11 *'])('%j never fires', (cron) => {
    expectOnlyError(`[tasks.t]\nrun = "true"\ncron = "${cron}"\n`, {
      key: 'tasks.t.cron',
      line: 3,
      column: 1,
      message: `"${cron}" can never fire (no date matches it)`,
      hint: 'check the day-of-month and month fields',
    })
  })

  it('Feb 29 fires (in leap years), @every 1s is the minimum', () => {
    const cfg = config('[tasks.leap]\nrun = "true"\ncron = "0 0 29 2 *"\n[tasks.fast]\nrun = "true"\ncron = "@every 1s"\n')
    expect(cfg.schedules.get('leap')?.type).toBe('cron')
    expect(cfg.schedules.get('fast')).toEqual({type: 'every', source: '@every 1s', intervalMs: 1000})
  })
})

describe('timezone', () => {
  it.each<[string, string]>([
    ['Europe/Bratislav', 'did you mean "Europe/Bratislava"?'],
    ['America/New_Yrok', 'did you mean "America/New_York"?'],
    ['Mars/Olympus_Mons', 'use an IANA zone name such as "Europe/Bratislava" or "UTC"'],
  ])('unknown zone %j is an error, never a silent UTC', (zone, hint) => {
    expectOnlyError(`[tasks.t]\nrun = "true"\n${CRON}\ntimezone = "${zone}"\n`, {key: 'tasks.t.timezone', line: 4, column: 1, message: `unknown time zone "${zone}"`, hint})
  })
})

describe('files as a whole', () => {
  it.each(['', '\n\n', '# nothing here\n', '   \n# comment\n\t\n'])('%j is a valid config with zero units', (text) => {
    const result = load(text)
    expect(result.ok).toBe(true)
    expect(result.ok && result.config.units).toStrictEqual([])
    expect(result.ok && result.config.schedules.size).toBe(0)
    expect(result.ok && result.config.secrets.size).toBe(0)
    expect(result.warnings).toStrictEqual([])
  })

  it('empty [tasks] and [services] tables are valid too', () => {
    expect(config('[tasks]\n[services]\n[defaults]\n[daemon]\n[scheduler]\n').units).toStrictEqual([])
  })

  it.each<[string, string, number, number]>([
    ['[tasks.t\nrun = "x"\n', 'illegal character in key', 1, 9],
    ['[tasks.t]\nrun = "x"\ntimeout =\n', 'invalid value', 3, 10],
    ['[tasks.t]\nrun = "x"\n[tasks.t]\nrun = "y"\n', 'trying to redefine an already defined table or value', 3, 2],
    ['[tasks.t]\nrun = "x"\nrun = "y"\n', 'trying to redefine an already defined table or value', 3, 1],
    ['[tasks.t]\nrun = "x\n', 'control characters are not allowed in strings', 2, 9],
    ['x = 1\ny = \n', 'invalid value', 2, 5],
  ])('TOML syntax error %#', (text, message, line, column) => {
    expect(errors(text)).toStrictEqual([{key: '', line, column, message: `TOML syntax: ${message}`}])
  })
})
