import {hostname} from 'node:os'
import {ClusterLink} from '../cluster/cluster-link.js'
import {ClusterNode} from '../cluster/cluster-node.js'
import type {Reaped} from '../cluster/dead-nodes.js'
import {configHash} from '../config/config-hash.js'
import type {Config} from '../config/load.js'
import type {Clock} from '../core/clock.js'
import type {Logger} from '../core/logger.js'
import type {ClusterSettings} from '../core/types.js'
import {VERSION} from '../core/version.js'
import {killLeftovers} from '../engine/recovery.js'
import type {StateLayout} from '../state/layout.js'

/**
 * `sched serve` joining the cluster before its engine boots: migrate, join under the node's
 * name, register every unit, and kill what survives of the runs this node's previous life left
 * (the join ended them `crashed`, or a reaper did earlier). Dead nodes' runs ended by this
 * node's beat are told through `reaped`.
 */
export async function joinAsNode(
  settings: ClusterSettings,
  config: Config,
  deps: {readonly layout: StateLayout; readonly clock: Clock; readonly logger: Logger; reaped(reaped: readonly Reaped[]): void},
): Promise<ClusterLink> {
  const {clock, logger, layout} = deps
  // The node beats from the join on; what it finds about leases reaches the link once it exists.
  let link: ClusterLink | undefined
  const {node, orphans, firstSeen, startsCluster} = await ClusterNode.start({
    settings,
    clock,
    logger,
    identity: {advertise: settings.advertise ?? null, configHash: configHash(config.units), version: VERSION, host: hostname(), stateDir: layout.root, pid: process.pid},
    units: config.units.map((u) => u.name),
    events: {
      leasesLost: (lost) => link?.leasesLost(lost),
      // The node itself stops claiming; task runs finish, their writes refused by the fence;
      // service instances die at once (their slots may be someone else's).
      fenced: () => link?.fenced(),
      reaped: (reaped) => deps.reaped(reaped),
    },
  })
  const killed = killLeftovers(orphans)
  for (const run of orphans) {
    const n = killed.get(run.id) ?? 0
    if (n) logger.warn('run.crashed', {task: run.task_name, run: run.id, orphans_killed: n})
  }
  link = new ClusterLink(node, new Map(firstSeen), {url: settings.url, clock, logger, startsCluster})
  return link
}
