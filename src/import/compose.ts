import {basename, dirname, isAbsolute, relative} from 'node:path'
import {LineCounter, type Node, type Pair, type YAMLMap, isMap, isScalar, isSeq, parseDocument} from 'yaml'
import {NS, formatDuration, parseDuration} from '../core/duration.js'
import type {ImportResult, ImportedUnit, InputError, TomlValue, Unmapped} from './model.js'

/**
 * A Compose file as sched units (SPEC §10). Docker Compose keeps running the containers — image,
 * ports, volumes, environment, healthchecks stay in the Compose file — and sched supervises the
 * `docker compose` process of each service: a long-running service becomes a sched service
 * (`up` in the foreground), a one-shot one (`restart: "no"`, or an `x-sched` block) a task
 * (`run --rm`). Every unit carries `compose = {file, project_name, service}`, from which the
 * loader derives its command (src/config/compose-command.ts).
 */

export interface ComposeOptions {
  /** The Compose file as given (for messages). */
  readonly source: string
  /** Its absolute path: what `docker compose -f` is given. */
  readonly path: string
  /** `--project`: wins over the file's `name` and its directory's name. */
  readonly project?: string
  /** `--services`: only these. */
  readonly services?: readonly string[]
  /** Where the config will live: the file is named relative to it when it lies below it. */
  readonly configDir?: string
}

/** The margin `docker compose up` gets beyond the container's stop_grace_period to stop and remove it. */
const COMPOSE_STOP_MARGIN = 10 * NS.s
/** Docker's stop_grace_period when the Compose file sets none. */
const DOCKER_STOP_GRACE = 10 * NS.s

export function convertCompose(text: string, options: ComposeOptions): ImportResult {
  const {source} = options
  const errors: InputError[] = []
  const unmapped: Unmapped[] = []
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, merge: true, prettyErrors: false})
  const lineOf = (node: unknown): number => {
    const range = (node as Node | undefined)?.range
    return range ? lines.linePos(range[0]).line : 1
  }
  const js = (node: unknown): unknown => (node && typeof (node as Node).toJS === 'function' ? (node as Node).toJS(doc) : (node as {value?: unknown})?.value)
  for (const e of doc.errors) errors.push({source, line: e.linePos?.[0].line ?? 1, message: `YAML: ${e.message.split('\n')[0]}`})
  if (errors.length) return {units: [], unmapped, errors}

  const root = doc.contents
  const services = isMap(root) ? root.get('services', true) : undefined
  if (!isMap(root) || !isMap(services)) {
    errors.push({source, line: lineOf(root), message: 'expected a Compose file with a services: mapping'})
    return {units: [], unmapped, errors}
  }
  const project = options.project ?? projectName(js(root.get('name', true)), options.path)
  const file = configPath(options.path, options.configDir)

  const entries = services.items.map((pair, index) => ({name: String(js(pair.key)), pair, index}))
  const wanted = options.services ?? entries.map((e) => e.name)
  for (const name of wanted) {
    if (!entries.some((e) => e.name === name)) errors.push({source, line: lineOf(services), message: `--services names "${name}", which the file does not define (it has ${entries.map((e) => e.name).join(', ')})`})
  }
  const selected = entries.filter((e) => wanted.includes(e.name))
  const kinds = new Map(selected.map((e) => [e.name, kindOf(e.pair.value)]))

  const units: ImportedUnit[] = []
  for (const {name, pair, index} of selected) {
    const line = lineOf(pair.key)
    const service = pair.value
    if (!isMap(service)) {
      errors.push({source, line, message: `services.${name}: expected a mapping`})
      continue
    }
    const kind = kinds.get(name)!
    const fields: Record<string, TomlValue> = {}
    const keyLines: Record<string, number> = {}
    const comments = [`${source}:${line}: services.${name}`]
    const note = (node: unknown, what: string, why: string) => unmapped.push({source, line: lineOf(node), what: `services.${name}.${what}`, why})

    const description = commentAbove(pair, index === 0 ? services : undefined)
    if (description) fields.description = description
    fields.compose = {file, project_name: project, service: name}

    const restart = service.get('restart', true)
    const policy = restartPolicy(js(restart))
    if (kind === 'service' && policy.startsWith('on-failure')) {
      fields.restart = 'on_failure'
      keyLines.restart = lineOf(restart)
      if (policy.includes(':')) note(restart, `restart: ${policy}`, "sched's start_retries counts fast failures in a row, not restarts in all")
    }
    const replicas = js(service.getIn(['deploy', 'replicas'], true)) ?? js(service.get('scale', true))
    if (typeof replicas === 'number' && replicas !== 1) {
      note(service.getIn(['deploy', 'replicas'], true) ?? service.get('scale', true), `replicas: ${replicas}`, 'sched runs one docker compose process per service; compose itself scales it')
    }

    const dependsOn = service.get('depends_on', true)
    const deps = dependencies(dependsOn, js)
    const kept: string[] = []
    for (const dep of deps) {
      if (dep.condition === 'service_completed_successfully') note(dep.node, `depends_on.${dep.name}`, 'sched orders services at boot only; trigger the one-shot task before, or keep it in compose')
      else if (kinds.get(dep.name) === 'service' && kind === 'service') kept.push(dep.name)
      else if (!kinds.has(dep.name)) note(dep.node, `depends_on.${dep.name}`, `${dep.name} is not imported (see --services)`)
      else if (kind === 'task') note(dep.node, `depends_on.${dep.name}`, 'a task has no boot order: docker compose run starts what it depends on itself')
      else note(dep.node, `depends_on.${dep.name}`, `${dep.name} is a one-shot task; services depend on services only`)
    }
    if (kept.length) {
      fields.depends_on = kept
      keyLines.depends_on = lineOf(dependsOn)
    }

    const signalNode = service.get('stop_signal', true)
    const signal = typeof js(signalNode) === 'string' ? normaliseSignal(js(signalNode) as string) : undefined
    const graceNode = service.get('stop_grace_period', true)
    const graceText = js(graceNode)
    const grace = typeof graceText === 'string' ? parseDuration(graceText) : undefined
    if (graceText !== undefined && grace === undefined) errors.push({source, line: lineOf(graceNode), message: `services.${name}.stop_grace_period: expected a duration such as "30s" or "1m30s", got ${JSON.stringify(graceText)}`})
    if (kind === 'task') {
      // docker compose run forwards the signals it gets to the container.
      if (signal) {
        fields.stop_signal = signal
        keyLines.stop_signal = lineOf(signalNode)
      }
      if (grace !== undefined) {
        fields.graceful_stop = formatDuration(grace)
        keyLines.graceful_stop = lineOf(graceNode)
      }
    } else {
      // sched stops `docker compose up` with SIGTERM; compose then stops the container with the
      // file's own stop_signal and stop_grace_period, and needs that long plus a margin.
      fields.graceful_stop = formatDuration((grace ?? DOCKER_STOP_GRACE) + COMPOSE_STOP_MARGIN)
      if (grace !== undefined) keyLines.graceful_stop = lineOf(graceNode)
      if (signal || grace !== undefined) {
        comments.push(`compose stops the container with ${signal ?? 'SIGTERM'} and waits ${formatDuration(grace ?? DOCKER_STOP_GRACE)} (its stop_signal and stop_grace_period)`)
      }
      const startPeriod = js(service.getIn(['healthcheck', 'start_period'], true))
      const healthyAfter = typeof startPeriod === 'string' ? parseDuration(startPeriod) : undefined
      if (healthyAfter !== undefined) {
        fields.healthy_after = formatDuration(healthyAfter)
        keyLines.healthy_after = lineOf(service.getIn(['healthcheck', 'start_period'], true))
      }
    }

    const profiles = js(service.get('profiles', true))
    if (Array.isArray(profiles) && profiles.length) {
      fields.group = profiles.map(String).join(',')
      // A service in a profile is off until asked for, in compose as in sched.
      if (kind === 'service') fields.autostart = false
    }

    const parameters: {[key: string]: TomlValue}[] = []
    const xsched = service.get('x-sched', true)
    if (xsched !== undefined && !isMap(xsched)) errors.push({source, line: lineOf(xsched), message: `services.${name}.x-sched: expected a mapping of sched keys (cron, timezone, parameters, timeout, …)`})
    if (isMap(xsched)) {
      for (const item of xsched.items) {
        const key = String(js(item.key))
        const at = lineOf(item.key)
        if (key === 'parameters') {
          const list = js(item.value)
          if (!Array.isArray(list) || !list.every((p) => p && typeof p === 'object' && !Array.isArray(p))) {
            errors.push({source, line: at, message: `services.${name}.x-sched.parameters: expected a list of parameter mappings ({key, kind, …})`})
          } else {
            for (const p of list as Record<string, unknown>[]) {
              const table: {[key: string]: TomlValue} = {}
              for (const [k, v] of Object.entries(p)) {
                const value = tomlValueOf(v)
                if (value === undefined) errors.push({source, line: at, message: `services.${name}.x-sched.parameters: ${k} must be a string, number, boolean or list`})
                else table[k] = value
              }
              parameters.push(table)
            }
            keyLines.parameters = at
          }
          continue
        }
        const value = tomlValueOf(js(item.value))
        if (value === undefined) errors.push({source, line: at, message: `services.${name}.x-sched.${key}: expected a string, number, boolean, list or mapping of strings`})
        else {
          fields[key] = value
          keyLines[key] = at
        }
      }
    }
    units.push({kind, name, source, line, comments, fields, keyLines, ...(parameters.length ? {parameters} : {})})
  }
  return {units, unmapped, errors}
}

/** A long-running service with a restart policy, or no policy at all, is a sched service. */
function kindOf(service: unknown): 'task' | 'service' {
  if (!isMap(service)) return 'service'
  const policy = restartPolicy(service.get('restart'))
  if (policy === 'no') return 'task'
  if (policy === '' && service.has('x-sched')) return 'task'
  return 'service'
}

function restartPolicy(value: unknown): string {
  if (value === false) return 'no'
  return typeof value === 'string' ? value.trim() : ''
}

interface Dependency {
  readonly name: string
  readonly condition?: string
  readonly node: unknown
}

/** `depends_on` in its list form (`[db]`) and its map form (`{db: {condition: service_healthy}}`). */
function dependencies(node: unknown, js: (n: unknown) => unknown): Dependency[] {
  if (isSeq(node)) return node.items.map((item) => ({name: String(js(item)), node: item}))
  if (isMap(node)) {
    return node.items.map((pair) => {
      const value = js(pair.value) as {condition?: string} | null
      return {name: String(js(pair.key)), condition: value?.condition, node: pair.key}
    })
  }
  return []
}

/** The comment written right above a service's key: its description. */
function commentAbove(pair: Pair, parent: YAMLMap | undefined): string | undefined {
  const key = pair.key as Node | null
  const text = (isScalar(key) ? key.commentBefore : undefined) ?? parent?.commentBefore
  if (!text) return undefined
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
}

/** Compose's project name: `name:`, else the directory of the file, in compose's alphabet. */
export function projectName(name: unknown, composePath: string): string {
  const raw = typeof name === 'string' && name.trim() ? name : basename(dirname(composePath))
  return raw.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '') || 'default'
}

function configPath(path: string, configDir: string | undefined): string {
  if (!configDir) return path
  const rel = relative(configDir, path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

function normaliseSignal(signal: string): string {
  const s = signal.trim().toUpperCase()
  return s.startsWith('SIG') ? s : `SIG${s}`
}

function tomlValueOf(value: unknown): TomlValue | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return value as string[]
    if (value.every((v) => typeof v === 'number')) return value as number[]
    return undefined
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.every(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) return Object.fromEntries(entries.map(([k, v]) => [k, String(v)]))
  }
  return undefined
}
