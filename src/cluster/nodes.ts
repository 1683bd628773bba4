import {randomUUID} from 'node:crypto'
import {SchedError} from '../core/errors.js'
import type {ClusterDb, Sql} from './db.js'
import type {Owner} from './runs.js'

/** Who a node is, as it announces itself when it joins. */
export interface NodeIdentity {
  readonly name: string
  /** New for each process start; writes of an earlier incarnation are refused. */
  readonly incarnation: string
  readonly advertise: string | null
  readonly configHash: string
  readonly version: string
  readonly host: string
  readonly stateDir: string
  readonly pid: number
}

export function newIncarnation(): string {
  return randomUUID()
}

/** A node as the registry holds it. Times are epoch ms of the database's clock. */
export interface NodeRow {
  readonly name: string
  readonly incarnation: string
  readonly advertise: string | null
  readonly config_hash: string
  readonly version: string
  readonly host: string
  readonly state_dir: string
  readonly pid: number
  readonly started_at: number
  readonly last_seen: number
  readonly expires_at: number
  /** The node's clock minus the database's, at its last heartbeat but one; null before. */
  readonly skew_ms: number | null
  readonly left_at: number | null
  /** Its heartbeat has not expired (and it has not left). */
  readonly live: boolean
}

export interface JoinResult {
  /** The incarnation this node had before (its runs are this node's to finish), if any. */
  readonly previousIncarnation?: string
  /** The database's clock when the node joined. */
  readonly dbNow: number
  /**
   * No other node was live when this one joined: it starts the cluster, and runs the
   * `run_on_start` tasks (SPEC §7, once per cluster start, not once per node).
   */
  readonly startsCluster: boolean
}

/** pg_advisory_xact_lock key taken while joining ("schjn" in ASCII): nodes join one at a time. */
const JOIN_LOCK = 0x7363686a6e

export interface Heartbeat {
  /** False: the name now belongs to another incarnation — this process must stop acting as the node. */
  readonly ok: boolean
  readonly dbNow: number
  /** Local clock minus the database's, measured at the middle of the round trip. */
  readonly skewMs: number
  readonly rttMs: number
}

const NODE_COLUMNS = `name, incarnation, advertise, config_hash, version, host, state_dir, pid, started_at, last_seen,
  expires_at, skew_ms, left_at, (expires_at > now() AND left_at IS NULL) AS live`

interface RawNode extends Omit<NodeRow, 'started_at' | 'last_seen' | 'expires_at' | 'left_at'> {
  started_at: Date
  last_seen: Date
  expires_at: Date
  left_at: Date | null
}

function toNode(r: RawNode): NodeRow {
  return {...r, started_at: r.started_at.getTime(), last_seen: r.last_seen.getTime(), expires_at: r.expires_at.getTime(), left_at: r.left_at?.getTime() ?? null}
}

/**
 * Joins the cluster under `me.name`. A name held by a live node elsewhere is refused (two nodes
 * must never share one); the same host and state directory may take it back at once, since the
 * state-directory claim proves its earlier incarnation is dead.
 */
export async function joinCluster(db: ClusterDb, me: NodeIdentity, leaseMs: number): Promise<JoinResult> {
  return db.transaction((sql) => joinIn(sql, me, leaseMs))
}

async function joinIn(sql: Sql, me: NodeIdentity, leaseMs: number): Promise<JoinResult> {
  // One join at a time: of nodes starting together, exactly one finds no other live node.
  await sql.query('SELECT pg_advisory_xact_lock($1)', [JOIN_LOCK])
  const {rows: others} = await sql.query<{n: number}>('SELECT count(*)::int AS n FROM sched.nodes WHERE name <> $1 AND expires_at > now() AND left_at IS NULL', [me.name])
  const {rows} = await sql.query<RawNode>(`SELECT ${NODE_COLUMNS} FROM sched.nodes WHERE name = $1 FOR UPDATE`, [me.name])
  const existing = rows[0] ? toNode(rows[0]) : undefined
  if (existing?.live && (existing.host !== me.host || existing.state_dir !== me.stateDir)) {
    throw new SchedError(`node name "${me.name}" is in use by a live node on ${existing.host} (state ${existing.state_dir}, pid ${existing.pid})`, {
      hint: `give each node its own [cluster] node; a node that stopped frees its name after its lease (${leaseMs / 1000}s)`,
    })
  }
  const values = [me.name, me.incarnation, me.advertise, me.configHash, me.version, me.host, me.stateDir, me.pid, leaseMs]
  const {rows: joined} = await sql.query<{db_now: Date}>(
    `INSERT INTO sched.nodes (name, incarnation, advertise, config_hash, version, host, state_dir, pid, started_at, last_seen, expires_at, skew_ms, left_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), now() + $9 * interval '1 millisecond', NULL, NULL)
     ON CONFLICT (name) DO UPDATE SET incarnation = $2, advertise = $3, config_hash = $4, version = $5, host = $6, state_dir = $7, pid = $8,
       started_at = now(), last_seen = now(), expires_at = now() + $9 * interval '1 millisecond', skew_ms = NULL, left_at = NULL
     RETURNING now() AS db_now`,
    values,
  )
  const previous = existing && existing.incarnation !== me.incarnation ? {previousIncarnation: existing.incarnation} : {}
  return {...previous, dbNow: joined[0].db_now.getTime(), startsCluster: others[0].n === 0}
}

/**
 * Renews the node's heartbeat for another lease and publishes its config hash and the clock skew
 * measured last time. `now` is the node's clock (injected).
 */
export async function heartbeat(sql: Sql, me: Owner, update: {leaseMs: number; configHash: string; skewMs: number | null}, now: () => number): Promise<Heartbeat> {
  const sent = now()
  const {rows} = await sql.query<{db_now: Date; ok: boolean}>(
    `WITH beat AS (
       UPDATE sched.nodes SET last_seen = now(), expires_at = now() + $3 * interval '1 millisecond', config_hash = $4, skew_ms = $5
       WHERE name = $1 AND incarnation = $2 AND left_at IS NULL RETURNING 1)
     SELECT clock_timestamp() AS db_now, EXISTS (SELECT 1 FROM beat) AS ok`,
    [me.node, me.incarnation, update.leaseMs, update.configHash, update.skewMs],
  )
  const received = now()
  const dbNow = rows[0].db_now.getTime()
  return {ok: rows[0].ok, dbNow, skewMs: (sent + received) / 2 - dbNow, rttMs: received - sent}
}

/** A clean stop: the node is no longer live, at once (its slots are released separately). */
export async function leaveCluster(sql: Sql, me: Owner): Promise<void> {
  await sql.query('UPDATE sched.nodes SET left_at = now(), expires_at = now() WHERE name = $1 AND incarnation = $2', [me.node, me.incarnation])
}

export async function listNodes(sql: Sql): Promise<{nodes: NodeRow[]; dbNow: number}> {
  const {rows} = await sql.query<RawNode & {db_now: Date}>(`SELECT ${NODE_COLUMNS}, now() AS db_now FROM sched.nodes ORDER BY name`)
  const {rows: clock} = rows.length ? {rows} : await sql.query<{db_now: Date}>('SELECT now() AS db_now')
  return {nodes: rows.map(({db_now: _, ...r}) => toNode(r)), dbNow: clock[0].db_now.getTime()}
}

/** Where a node's API is, as it announced at its join, and whether its heartbeat is current. */
export interface NodeAddress {
  readonly advertise: string | null
  readonly live: boolean
  /** Its last heartbeat (epoch ms, the database's clock). */
  readonly last_seen: number
}

export async function nodeAddress(sql: Sql, name: string): Promise<NodeAddress | undefined> {
  const {rows} = await sql.query<{advertise: string | null; live: boolean; last_seen: Date}>(
    'SELECT advertise, (expires_at > now() AND left_at IS NULL) AS live, last_seen FROM sched.nodes WHERE name = $1',
    [name],
  )
  return rows[0] && {advertise: rows[0].advertise, live: rows[0].live, last_seen: rows[0].last_seen.getTime()}
}
