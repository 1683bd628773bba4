import {SchedCommand} from '../../cli/base.js'
import {renderTable} from '../../cli/table.js'
import {formatRelative} from '../../cli/time.js'
import {redactUrl} from '../../config/cluster.js'
import {configHash} from '../../config/config-hash.js'
import {SchedError} from '../../core/errors.js'
import type {ClusterStatus} from '../../cluster/status.js'

export default class ClusterStatusCommand extends SchedCommand {
  static summary = 'Show the cluster: nodes, heartbeats, leases, config hashes, clock skew.'
  static description =
    'Reads the PostgreSQL database named by [cluster] url (or SCHED_CLUSTER_URL) directly; needs no daemon. A node is up while its heartbeat is current, down once it has missed a whole lease, left after a clean stop. A node whose config hash differs from the one most live nodes run is marked, as is this config file when it differs. Skew is the node\'s clock minus the database\'s.'
  static examples = [
    {command: '<%= config.bin %> cluster status', description: 'For people.'},
    {command: "<%= config.bin %> cluster status --json | jq '.nodes[] | select(.state != \"up\") | .name'", description: 'The nodes that are not up.'},
  ]

  /** --json: {url, schema_version, db_now, config_hash, local, nodes}. */
  static enableJsonFlag = true

  async run(): Promise<ClusterStatus> {
    const {flags} = await this.parse(ClusterStatusCommand)
    const config = this.loadConfig(flags.config)
    if (!config.cluster) {
      throw new SchedError(`${config.path} has no [cluster] table: this daemon runs on its own`, {hint: 'add [cluster] with url = "postgres://…" to run sched on several nodes'})
    }
    const {cluster} = config
    // Loaded only here: every other command starts without the PostgreSQL client.
    const [{withConnection}, {readClusterStatus}] = await Promise.all([import('../../cluster/db.js'), import('../../cluster/status.js')])
    const status = await withConnection(cluster.url, (sql) => readClusterStatus(sql, redactUrl(cluster.url), {node: cluster.node, configHash: configHash(config.units)}))
    if (!this.jsonEnabled()) this.render(status)
    return status
  }

  private render(s: ClusterStatus): void {
    const c = this.out()
    const short = (hash: string | null) => (hash ? hash.slice(0, 12) : '-')
    const local = s.local.matches ? c.green('same') : c.red(`differs (${short(s.local.config_hash)})`)
    this.log(`cluster ${s.url} · schema ${s.schema_version} · config ${short(s.config_hash)} · this file: ${local}`)
    if (s.nodes.length === 0) {
      this.logToStderr('no node has joined this cluster yet')
      return
    }
    const now = Date.parse(s.db_now)
    const rows = s.nodes.map((n) => [
      n.name + (n.name === s.local.node ? c.dim(' (this config)') : ''),
      n.state === 'up' ? c.green('up') : n.state === 'down' ? c.red('down') : c.dim('left'),
      formatRelative(Date.parse(n.last_seen), now),
      n.leases.length ? n.leases.map((l) => `${l.service}#${l.slot}`).join(' ') : c.dim('-'),
      n.config_matches ? short(n.config_hash) : c.red(`${short(n.config_hash)} ≠`),
      n.skew_ms === null ? c.dim('-') : `${n.skew_ms > 0 ? '+' : ''}${n.skew_ms}ms`,
      n.advertise ?? c.dim('-'),
    ])
    this.log(renderTable(['NODE', 'STATE', 'LAST SEEN', 'LEASES', 'CONFIG', 'SKEW', 'ADVERTISE'], rows))
  }
}
