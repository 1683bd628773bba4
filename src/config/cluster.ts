import {hostname} from 'node:os'
import {NS} from '../core/duration.js'
import type {ClusterSettings} from '../core/types.js'
import type {SectionField} from './fields.js'
import type {Path} from './toml.js'
import {checkName} from './units.js'
import {Invalid, type Reader, duration, nonEmpty} from './values.js'

/**
 * `[cluster]` (SPEC §13): its keys, how each is read, and the settings they come to. The URL
 * carries the database password, so no message here ever quotes it: errors and every display go
 * through redactUrl().
 */
export const CLUSTER_URL_ENV = 'SCHED_CLUSTER_URL'
/** The node's name from the environment: every node loads the same file, each under its own name. */
export const CLUSTER_NODE_ENV = 'SCHED_CLUSTER_NODE'
/** The node's advertised API URL from the environment, for the same reason (each node its own). */
export const CLUSTER_ADVERTISE_ENV = 'SCHED_CLUSTER_ADVERTISE'

/** Heartbeats and renewals go out three times a lease: a second is the shortest that leaves room. */
export const MIN_LEASE = NS.s
export const MAX_LEASE = 10 * NS.m

/** The URL with its password replaced by `***` (in the user part and in a `password=` query parameter). */
export function redactUrl(url: string): string {
  return url
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***')
}

const URL_EXAMPLE = 'postgres://sched:PASSWORD@db.example:5432/sched'

export const clusterUrl: Reader<string> = (raw) => {
  const s = nonEmpty(raw)
  if (s instanceof Invalid) return s
  if (!/^postgres(ql)?:\/\/\S*$/.test(s)) {
    return new Invalid(`expected a PostgreSQL URL such as ${URL_EXAMPLE}, got "${redactUrl(s)}"`, `set ${CLUSTER_URL_ENV} to keep the password out of the file`)
  }
  return s
}

const nodeName: Reader<string> = (raw) => {
  const s = nonEmpty(raw)
  if (s instanceof Invalid) return s
  const problem = checkName(s)
  return problem ? new Invalid(problem.replace(/^name/, 'node name'), 'node names follow the rules of unit names') : s
}

const advertiseUrl: Reader<string> = (raw) => {
  const s = nonEmpty(raw)
  if (s instanceof Invalid) return s
  let url: URL
  try {
    url = new URL(s)
  } catch {
    return new Invalid(`expected an http(s) URL such as "http://10.0.0.5:9477", got "${s}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new Invalid(`expected an http:// or https:// URL, got "${s}"`)
  if (url.username || url.password) return new Invalid('must not hold credentials', 'nodes authenticate to each other with the API token')
  if (url.search || url.hash) return new Invalid(`must not have a query or fragment, got "${s}"`)
  return s.replace(/\/+$/, '')
}

export const CLUSTER_FIELDS: Readonly<Record<string, SectionField>> = {
  url: {read: clusterUrl, default: undefined},
  node: {read: nodeName, default: undefined},
  advertise: {read: advertiseUrl, default: undefined},
  lease: {read: duration({min: MIN_LEASE, max: MAX_LEASE}), default: 10 * NS.s, isDuration: true},
}

export interface ClusterSources {
  readonly env: NodeJS.ProcessEnv
  /** The host name, the node's default name. */
  readonly hostname?: string
}

/**
 * The settings of a `[cluster]` table already read key by key: SCHED_CLUSTER_URL wins over `url`
 * (as SCHED_HOST does over `[daemon] host`), SCHED_CLUSTER_NODE over `node`, SCHED_CLUSTER_ADVERTISE
 * over `advertise`, and `node` defaults to the host name. `advertise` has no default: the address
 * the API listens on (127.0.0.1 by default) would name another machine for every other node.
 */
export function clusterSettings(
  read: {url?: string; node?: string; advertise?: string; lease: number},
  sources: ClusterSources,
  error: (path: Path, message: string, hint?: string) => void,
): ClusterSettings | undefined {
  let url = read.url
  const fromEnv = sources.env[CLUSTER_URL_ENV]
  if (fromEnv !== undefined && fromEnv !== '') {
    const v = clusterUrl(fromEnv)
    if (v instanceof Invalid) {
      error(['cluster'], `${CLUSTER_URL_ENV}: ${v.message}`)
      return undefined
    }
    url = v
  }
  if (url === undefined) {
    error(['cluster'], '[cluster] needs the PostgreSQL URL', `add url = "${URL_EXAMPLE}", or set ${CLUSTER_URL_ENV}`)
    return undefined
  }
  // Every node loads the same file: its own name and address come from its environment.
  const overridden = <T>(name: string, reader: Reader<T>, inFile: T | undefined): T | undefined | Invalid => {
    const raw = sources.env[name]
    if (raw === undefined || raw === '') return inFile
    const v = reader(raw)
    if (v instanceof Invalid) error(['cluster'], `${name}: ${v.message}`, v.hint)
    return v
  }
  let node = overridden(CLUSTER_NODE_ENV, nodeName, read.node)
  if (node instanceof Invalid) return undefined
  if (node === undefined) {
    const host = sources.hostname ?? hostname()
    if (checkName(host) !== undefined) {
      error(['cluster'], `the host name "${host}" cannot be a node name`, 'set [cluster] node = "a-name" (letters, digits, ".", "_", ":" or "-")')
      return undefined
    }
    node = host
  }
  const advertise = overridden(CLUSTER_ADVERTISE_ENV, advertiseUrl, read.advertise)
  if (advertise instanceof Invalid) return undefined
  return {url, node, ...(advertise === undefined ? {} : {advertise}), lease: read.lease}
}
