import type {Placement} from '../core/types.js'

/**
 * Which service slots a node should try to take (SPEC §13) — a pure function of what the node
 * sees, so every node applies the same rule and the database settles any race.
 *
 * `any_node`: slots "0" … "instances−1" live anywhere. Each slot has a preferred node, the live
 * nodes taken in name order round-robin, so a cluster that starts together spreads evenly. A
 * node takes a free slot it is preferred for at once; another free slot once it has stayed free
 * for `graceMs` (its preferred node had time to take it) while the node holds fewer than its
 * share, ceil(instances / live nodes); and any slot free for twice that, whatever its share —
 * running the instance comes before spreading it. Running instances are never moved to
 * rebalance: an instance moves only when its node dies or leaves.
 *
 * `every_node`: one slot per node, named after it; a node takes its own and no other.
 */
export interface ServicePlacement {
  readonly instances: number
  readonly placement: Placement
}

export interface SlotView {
  /** The live holder, or null when the slot is free (never taken, released, or its lease expired). */
  readonly holder: string | null
  /**
   * How long it has been free (ms); for a slot never taken, since the cluster first saw the
   * service. Ignored while held.
   */
  readonly freeForMs: number
}

export interface SlotPlanInput {
  readonly service: ServicePlacement
  readonly node: string
  /** Nodes whose heartbeat is current, this one included. */
  readonly liveNodes: readonly string[]
  /** Slots as the database has them; a slot missing here counts as just freed. */
  readonly slots: ReadonlyMap<string, SlotView>
  readonly graceMs: number
}

export function slotKeys(service: ServicePlacement, node: string): string[] {
  return service.placement === 'every_node' ? [node] : Array.from({length: service.instances}, (_, i) => String(i))
}

/** The slots to try to acquire now, most wanted first. */
export function slotsToTake(input: SlotPlanInput): string[] {
  const {service, node, slots, graceMs} = input
  const keys = slotKeys(service, node)
  const view = (key: string): SlotView => slots.get(key) ?? {holder: null, freeForMs: 0}
  if (service.placement === 'every_node') return view(node).holder === null ? [node] : []
  const live = [...new Set([...input.liveNodes, node])].sort()
  const preferred = (key: string) => live[Number(key) % live.length]
  const share = Math.ceil(service.instances / live.length)
  let held = keys.filter((k) => view(k).holder === node).length
  const free = keys.filter((k) => view(k).holder === null)
  const take: string[] = []
  for (const k of free) if (preferred(k) === node) take.push(k)
  held += take.length
  for (const k of free) {
    if (take.includes(k)) continue
    const waited = view(k).freeForMs
    if ((waited >= graceMs && held < share) || waited >= 2 * graceMs) {
      take.push(k)
      held++
    }
  }
  return take
}

/** The instance index a slot runs as (SCHED_INSTANCE): its number, or 0 for a node's own every_node slot. */
export function instanceIndex(service: ServicePlacement, slot: string): number {
  return service.placement === 'every_node' ? 0 : Number(slot)
}
