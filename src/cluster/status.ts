import {clusterConfigHash} from './cluster-hash.js'
import type {Sql} from './db.js'
import {type SlotRow, listSlots} from './leases.js'
import {type NodeRow, listNodes} from './nodes.js'
import {checkSchemaVersion, schemaVersion} from './schema.js'

export interface NodeStatus {
  readonly name: string
  /** `up` (heartbeat current), `down` (expired: killed, frozen or cut off), `left` (stopped cleanly). */
  readonly state: 'up' | 'down' | 'left'
  readonly advertise: string | null
  readonly host: string
  readonly pid: number
  readonly version: string
  readonly started_at: string
  readonly last_seen: string
  /** How long ago, by the database's clock. */
  readonly last_seen_ms_ago: number
  readonly config_hash: string
  /** False when the node runs another config than the cluster's. */
  readonly config_matches: boolean
  readonly skew_ms: number | null
  readonly leases: readonly {service: string; slot: string; token: number; expires_at: string}[]
}

export interface ClusterStatus {
  /** The database URL, password redacted. */
  readonly url: string
  readonly schema_version: number
  readonly db_now: string
  /** The hash most live nodes run; null with none live. */
  readonly config_hash: string | null
  /** This config file's hash, and whether the cluster runs the same. */
  readonly local: {readonly node: string; readonly config_hash: string; readonly matches: boolean}
  readonly nodes: readonly NodeStatus[]
}

/**
 * What `sched cluster status` shows, read straight from PostgreSQL (no daemon needed): every
 * node with its heartbeat, leases, config hash and clock skew. Only reads: a database no node
 * has initialised yet shows no nodes.
 */
export async function readClusterStatus(sql: Sql, shownUrl: string, local: {node: string; configHash: string}): Promise<ClusterStatus> {
  const version = await schemaVersion(sql)
  checkSchemaVersion(version)
  let nodes: NodeRow[] = []
  let slots: SlotRow[] = []
  let dbNow: number
  if (version === 0) {
    dbNow = (await sql.query<{n: Date}>('SELECT now() AS n')).rows[0].n.getTime()
  } else {
    const [n, s] = await Promise.all([listNodes(sql), listSlots(sql)])
    nodes = n.nodes
    slots = s.slots
    dbNow = n.dbNow
  }
  const clusterHash = clusterConfigHash(nodes)
  const iso = (ms: number) => new Date(ms).toISOString()
  return {
    url: shownUrl,
    schema_version: version,
    db_now: iso(dbNow),
    config_hash: clusterHash,
    local: {node: local.node, config_hash: local.configHash, matches: clusterHash === null || clusterHash === local.configHash},
    nodes: nodes.map((n) => ({
      name: n.name,
      state: n.left_at !== null ? 'left' : n.live ? 'up' : 'down',
      advertise: n.advertise,
      host: n.host,
      pid: n.pid,
      version: n.version,
      started_at: iso(n.started_at),
      last_seen: iso(n.last_seen),
      last_seen_ms_ago: Math.max(0, dbNow - n.last_seen),
      config_hash: n.config_hash,
      config_matches: clusterHash === null || n.config_hash === clusterHash,
      skew_ms: n.skew_ms === null ? null : Math.round(n.skew_ms),
      leases: slots.filter((s) => s.live && s.node === n.name).map((s) => ({service: s.service, slot: s.slot, token: s.token, expires_at: iso(s.expires_at)})),
    })),
  }
}
