/**
 * The cluster's config hash (SPEC §13): the one most live nodes run, ties going to the node up
 * the longest — the one that was there first. A node whose hash differs is marked, so an
 * operator sees which node missed a deploy (or has another host zone). Null with no live node.
 */
export function clusterConfigHash(nodes: readonly {config_hash: string; live: boolean; started_at: number}[]): string | null {
  const votes = new Map<string, {count: number; since: number}>()
  for (const n of nodes) {
    if (!n.live) continue
    const v = votes.get(n.config_hash) ?? {count: 0, since: Infinity}
    votes.set(n.config_hash, {count: v.count + 1, since: Math.min(v.since, n.started_at)})
  }
  let best: [string, {count: number; since: number}] | undefined
  for (const entry of votes) {
    if (!best || entry[1].count > best[1].count || (entry[1].count === best[1].count && entry[1].since < best[1].since)) best = entry
  }
  return best?.[0] ?? null
}
