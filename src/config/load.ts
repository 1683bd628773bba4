import {accessSync, constants, readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, resolve} from 'node:path'
import type {ScheduleSpec} from '../cron/expression.js'
import {canonicalZone, hostZone} from '../cron/zone.js'
import {errorMessage} from '../core/errors.js'
import type {NotifyConfig} from '../core/notify.js'
import type {ClusterSettings, DaemonSettings, Kind, SchedulerSettings, Unit} from '../core/types.js'
import {CLUSTER_FIELDS, CLUSTER_URL_ENV, clusterSettings} from './cluster.js'
import {readDotenv} from './dotenv.js'
import {DAEMON_FIELDS, INHERITABLE_KEYS, SCHEDULER_FIELDS, type SectionField, TOP_LEVEL, UNIT_FIELDS} from './fields.js'
import {type UnitNotify, readNotify} from './notify.js'
import {resolveConfigPath} from './paths.js'
import {suggest} from './suggest.js'
import {type Path, type TomlDocument, TomlSyntaxError, parseToml} from './toml.js'
import {type DefaultValue, buildUnit, checkName, section, zoneHint} from './units.js'
import {Invalid, describe, isTable, looksLikeSecondsInNanoseconds} from './values.js'

export interface ConfigIssue {
  /** Dotted key path, e.g. `tasks.backup.timeout`; "" for the file as a whole. */
  readonly key: string
  readonly line: number
  readonly column: number
  readonly message: string
  readonly hint?: string
}

export interface Config {
  readonly path: string
  readonly daemon: DaemonSettings
  readonly scheduler: SchedulerSettings
  /** Present when the file has a `[cluster]` table; without one the state directory is the whole truth. */
  readonly cluster?: ClusterSettings
  /** Sorted by name. */
  readonly units: readonly Unit[]
  readonly schedules: ReadonlyMap<string, ScheduleSpec>
  /** Values from each unit's secrets_file; never serialised. */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>
  /** Notifiers and routes (SPEC §14); their credentials are never serialised either. */
  readonly notify: NotifyConfig
  readonly warnings: readonly ConfigIssue[]
  /** Every file and directory besides the config whose state the load read: env and secrets files, working directories, shells. */
  readonly inputs: readonly string[]
}

export type LoadResult =
  | {readonly ok: true; readonly config: Config; readonly warnings: readonly ConfigIssue[]}
  | {readonly ok: false; readonly path: string; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[]}

export interface LoadOptions {
  readonly isRoot?: boolean
  readonly home?: string
  readonly hostZone?: string
  /** For SCHED_CLUSTER_URL and `"env:NAME"` notifier settings; process.env unless given. */
  readonly env?: NodeJS.ProcessEnv
  /** The default `[cluster] node`; the host name unless given. */
  readonly hostname?: string
}

export function loadConfigFile(file: string, options: LoadOptions = {}): LoadResult {
  const path = resolve(file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    return {ok: false, path, errors: [{key: '', line: 0, column: 0, message: `cannot read ${path}: ${errorMessage(error)}`}], warnings: []}
  }
  return loadConfigText(text, path, options)
}

export function loadConfigText(text: string, path: string, options: LoadOptions = {}): LoadResult {
  let doc: TomlDocument
  try {
    doc = parseToml(text)
  } catch (error) {
    if (error instanceof TomlSyntaxError) {
      return {ok: false, path, errors: [{key: '', line: error.line, column: error.column, message: `TOML syntax: ${error.message}`}], warnings: []}
    }
    throw error
  }
  return new Loader(doc, path, options).load()
}

/**
 * `[daemon] state_dir` of a file that does not load as a whole: commands that only read state
 * must still find the right directory when a unit has an error.
 */
export function stateDirSetting(file: string, home: string = homedir()): string | undefined {
  try {
    const daemon = parseToml(readFileSync(file, 'utf8')).value.daemon
    const dir = isTable(daemon) ? daemon.state_dir : undefined
    return typeof dir === 'string' && dir.trim() !== '' ? resolveConfigPath(dir, dirname(resolve(file)), home) : undefined
  } catch {
    return undefined
  }
}

/** Displays a key path the way it is written in TOML: tasks."db.backup".parameters[0].kind */
export function formatPath(path: Path): string {
  let out = ''
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`
    else out += (out ? '.' : '') + (/^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p))
  }
  return out
}

class Loader {
  private readonly errors: {path: Path; message: string; hint?: string}[] = []
  private readonly warnings: {path: Path; message: string; hint?: string}[] = []
  private readonly dotenvCache = new Map<string, Record<string, string> | Error>()
  private readonly dir: string
  private readonly home: string
  private readonly isRoot: boolean

  constructor(
    private readonly doc: TomlDocument,
    private readonly path: string,
    private readonly options: LoadOptions,
  ) {
    this.dir = dirname(path)
    this.home = options.home ?? homedir()
    this.isRoot = options.isRoot ?? process.getuid?.() === 0
  }

  load(): LoadResult {
    const root = this.doc.value
    for (const key of Object.keys(root)) {
      if (!(TOP_LEVEL as readonly string[]).includes(key)) {
        const near = suggest(key, TOP_LEVEL)
        const header = (t: string) => (t === 'route' ? '[[route]]' : `[${t}]`)
        this.error([key], `unknown table or key "${key}"`, near ? `did you mean ${header(near)}?` : `the file holds ${TOP_LEVEL.map(header).join(', ')}`)
      }
    }
    const daemon = this.readSection('daemon', DAEMON_FIELDS) as unknown as DaemonSettings & {state_dir?: string}
    const state_dir = daemon.state_dir === undefined ? undefined : resolveConfigPath(daemon.state_dir, this.dir, this.home)
    const scheduler = this.readSection('scheduler', SCHEDULER_FIELDS) as {timezone?: string}
    let zone = this.options.hostZone ?? hostZone()
    if (scheduler.timezone !== undefined) {
      const canonical = canonicalZone(scheduler.timezone)
      if (canonical) zone = canonical
      else this.error(['scheduler', 'timezone'], `unknown time zone "${scheduler.timezone}"`, zoneHint(scheduler.timezone))
    }
    const cluster = this.readCluster()
    const defaults = this.readDefaults()

    const units: Unit[] = []
    const schedules = new Map<string, ScheduleSpec>()
    const secrets = new Map<string, Record<string, string>>()
    const notifyOf: UnitNotify[] = []
    const owner = new Map<string, Kind>()
    const dependsOn = new Map<string, readonly (string | undefined)[]>()
    const ctx = {
      dir: this.dir,
      home: this.home,
      isRoot: this.isRoot,
      zone,
      error: (p: Path, m: string, h?: string) => this.error(p, m, h),
      warn: (p: Path, m: string, h?: string) => this.warn(p, m, h),
      dotenv: (p: Path, file: string) => this.dotenv(p, file),
      isExecutable: (file: string) => this.isExecutable(file),
    }
    for (const kind of ['task', 'service'] as const) {
      const table = root[section(kind)]
      if (table === undefined) continue
      if (!isTable(table)) {
        this.error([section(kind)], `expected a table of ${section(kind)}, got ${describe(table)}`, `write [${section(kind)}.NAME] tables`)
        continue
      }
      for (const [name, raw] of Object.entries(table)) {
        const nameProblem = checkName(name)
        if (nameProblem) {
          this.error([section(kind), name], nameProblem)
          continue
        }
        const other = owner.get(name)
        if (other) {
          this.error([section(kind), name], `name "${name}" is already used by [${section(other)}.${name}]`, 'names are unique across tasks and services')
          continue
        }
        owner.set(name, kind)
        // Dependencies are checked even for a service with other errors, so all are reported together.
        // Entries that do not read (reported by buildUnit) stay as holes, so they are not reported
        // twice and every index still points at the element the author wrote.
        if (kind === 'service' && isTable(raw) && Array.isArray(raw.depends_on)) {
          dependsOn.set(name, raw.depends_on.map((d) => (typeof d === 'string' && d.trim() !== '' ? d : undefined)))
        }
        const built = buildUnit(kind, name, raw, defaults, ctx)
        if (!built) continue
        units.push(built.unit)
        notifyOf.push({unit: built.unit, path: built.notifyPath})
        if (built.schedule) schedules.set(name, built.schedule)
        if (Object.keys(built.secrets).length) secrets.set(name, built.secrets)
      }
    }
    this.checkDependencies(dependsOn, owner)
    units.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    notifyOf.sort((a, b) => (a.unit.name < b.unit.name ? -1 : a.unit.name > b.unit.name ? 1 : 0))
    const defaultSecrets = defaults.get('secrets_file')
    const notify = readNotify(root, notifyOf, {
      dir: this.dir,
      home: this.home,
      env: this.options.env ?? process.env,
      error: (p, m, h) => this.error(p, m, h),
      warn: (p, m, h) => this.warn(p, m, h),
      dotenv: (p, file) => this.dotenv(p, file),
      defaultSecrets: defaultSecrets ? this.dotenv(['defaults', 'secrets_file'], resolveConfigPath(defaultSecrets.value as string, this.dir, this.home)) : undefined,
    })

    const warnings = this.issues(this.warnings)
    if (this.errors.length) return {ok: false, path: this.path, errors: this.issues(this.errors), warnings}
    return {
      ok: true,
      warnings,
      config: {
        path: this.path,
        daemon: {...daemon, state_dir, ...(daemon.public_url ? {public_url: daemon.public_url.replace(/\/+$/, '')} : {})},
        scheduler: {timezone: zone},
        ...(cluster ? {cluster} : {}),
        units,
        schedules,
        secrets,
        notify,
        warnings,
        inputs: [...new Set([...this.dotenvCache.keys(), ...this.executables.keys(), ...units.map((u) => u.working_dir)])].filter(Boolean).sort(),
      },
    }
  }

  private readSection(name: string, fields: Readonly<Record<string, SectionField>>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [key, f] of Object.entries(fields)) out[key] = f.default
    const raw = this.doc.value[name]
    if (raw === undefined) return out
    if (!isTable(raw)) {
      this.error([name], `expected a table, got ${describe(raw)}`)
      return out
    }
    for (const [key, value] of Object.entries(raw)) {
      const f = fields[key]
      if (!f) {
        const near = suggest(key, Object.keys(fields))
        const elsewhere = UNIT_FIELDS[key] ? `; ${key} is a unit key, set it per unit or in [defaults]` : ''
        this.error([name, key], `unknown key "${key}" in [${name}]${elsewhere}`, near ? `did you mean "${near}"?` : `[${name}] holds ${Object.keys(fields).join(', ')}`)
        continue
      }
      const v = f.read(value)
      if (v instanceof Invalid) this.error([name, key], v.message, v.hint)
      else {
        if (f.isDuration && looksLikeSecondsInNanoseconds(value)) this.warn([name, key], `${key} = ${String(value)} is ${String(value)} nanoseconds`, `write "${String(value)}s" for seconds`)
        out[key] = v
      }
    }
    return out
  }

  private readCluster(): ClusterSettings | undefined {
    const env = this.options.env ?? process.env
    if (this.doc.value.cluster === undefined) {
      if (env[CLUSTER_URL_ENV]) this.warn([], `${CLUSTER_URL_ENV} is set but the file has no [cluster] table: this daemon runs on its own`, 'add a [cluster] table to join the cluster')
      return undefined
    }
    const before = this.errors.length
    const read = this.readSection('cluster', CLUSTER_FIELDS) as {url?: string; node?: string; advertise?: string; lease: number}
    // A key already reported must not come back as "missing".
    if (this.errors.length > before) return undefined
    return clusterSettings(read, {env, hostname: this.options.hostname}, (p, m, h) => this.error(p, m, h))
  }

  private readDefaults(): Map<string, DefaultValue> {
    const out = new Map<string, DefaultValue>()
    const raw = this.doc.value.defaults
    if (raw === undefined) return out
    if (!isTable(raw)) {
      this.error(['defaults'], `expected a table, got ${describe(raw)}`)
      return out
    }
    for (const [key, value] of Object.entries(raw)) {
      const f = UNIT_FIELDS[key]
      if (!f) {
        const near = suggest(key, Object.keys(UNIT_FIELDS))
        this.error(['defaults', key], `unknown key "${key}"`, near ? `did you mean "${near}"?` : undefined)
        continue
      }
      if (!f.inheritable) {
        this.error(['defaults', key], `"${key}" cannot be set in [defaults]`, `set it on each unit; [defaults] takes ${INHERITABLE_KEYS.join(', ')}`)
        continue
      }
      const v = f.read(value)
      if (v instanceof Invalid) {
        this.error(['defaults', key], v.message, v.hint)
        continue
      }
      if (f.isDuration && looksLikeSecondsInNanoseconds(value)) this.warn(['defaults', key], `${key} = ${String(value)} is ${String(value)} nanoseconds`, `write "${String(value)}s" for seconds`)
      if (key === 'secrets_file' || key === 'env_file') this.dotenv(['defaults', key], resolveConfigPath(v as string, this.dir, this.home))
      out.set(key, {value: v, raw: value})
    }
    return out
  }

  private checkDependencies(dependsOn: ReadonlyMap<string, readonly (string | undefined)[]>, owner: ReadonlyMap<string, Kind>): void {
    const valid = new Map<string, string[]>()
    for (const [name, declared] of dependsOn) {
      const deps: string[] = []
      declared.forEach((dep, i) => {
        const path = ['services', name, 'depends_on', i]
        if (dep === undefined) return
        if (dep === name) this.error(path, `service "${name}" depends on itself`)
        else if (declared.indexOf(dep) < i) this.error(path, `"${dep}" is listed twice`)
        else if (owner.get(dep) === 'task') this.error(path, `"${dep}" is a task; depends_on names services`, 'boot order applies to services only')
        else if (!owner.has(dep)) {
          const near = suggest(dep, [...owner].filter(([, k]) => k === 'service').map(([n]) => n))
          this.error(path, `unknown service "${dep}"`, near ? `did you mean "${near}"?` : undefined)
        } else deps.push(dep)
      })
      valid.set(name, deps)
    }
    // Depth-first search for cycles; each cycle is reported once, at its first member.
    const state = new Map<string, 'visiting' | 'done'>()
    const stack: string[] = []
    const visit = (name: string) => {
      state.set(name, 'visiting')
      stack.push(name)
      for (const dep of valid.get(name) ?? []) {
        if (state.get(dep) === 'visiting') {
          const cycle = [...stack.slice(stack.indexOf(dep)), dep]
          const i = dependsOn.get(name)!.indexOf(dep)
          this.error(['services', name, 'depends_on', i], `dependency cycle: ${cycle.join(' → ')}`, 'depends_on must not loop back')
        } else if (!state.has(dep)) visit(dep)
      }
      stack.pop()
      state.set(name, 'done')
    }
    for (const name of [...valid.keys()].sort()) if (!state.has(name)) visit(name)
  }

  private dotenv(path: Path, file: string): Record<string, string> | undefined {
    let cached = this.dotenvCache.get(file)
    if (cached === undefined) {
      try {
        cached = readDotenv(file)
      } catch (error) {
        cached = error instanceof Error ? error : new Error(String(error))
      }
      this.dotenvCache.set(file, cached)
    }
    if (cached instanceof Error) {
      const missing = (cached as NodeJS.ErrnoException).code === 'ENOENT'
      this.error(path, missing ? `file ${file} does not exist` : `cannot read ${file}: ${cached.message}`, missing ? 'create it, or fix the path (relative paths are relative to the config file)' : undefined)
      return undefined
    }
    return cached
  }

  // Most units share a shell: check each path once per load.
  private readonly executables = new Map<string, boolean>()

  private isExecutable(file: string): boolean {
    let ok = this.executables.get(file)
    if (ok === undefined) {
      try {
        accessSync(file, constants.X_OK)
        ok = statSync(file).isFile()
      } catch {
        ok = false
      }
      this.executables.set(file, ok)
    }
    return ok
  }

  private error(path: Path, message: string, hint?: string): void {
    this.errors.push({path, message, hint})
  }

  private warn(path: Path, message: string, hint?: string): void {
    this.warnings.push({path, message, hint})
  }

  private issues(list: {path: Path; message: string; hint?: string}[]): ConfigIssue[] {
    // A shared problem (a [defaults] file that is missing) is met by every unit: say it once.
    const seen = new Set<string>()
    return list
      .filter(({path, message}) => {
        const id = `${formatPath(path)}\0${message}`
        return seen.has(id) ? false : (seen.add(id), true)
      })
      .map(({path, message, hint}) => ({key: formatPath(path), ...this.doc.locate(path), message, ...(hint ? {hint} : {})}))
      .sort((a, b) => a.line - b.line || a.column - b.column)
  }
}
