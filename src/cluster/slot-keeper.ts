import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import type {ClusterNode} from './cluster-node.js'
import {ClusterUnavailable} from './db.js'
import {type HeldLease, type Lease, acquireSlot, listSlots, releaseSlot, slotViews} from './leases.js'
import {listNodes} from './nodes.js'
import {instanceIndex, slotKeys, slotsToTake} from './slot-plan.js'

/** The supervisor as the keeper drives it: an instance runs here only while its slot is ours. */
export interface InstanceHost {
  grant(service: string, index: number): boolean
  revoke(service: string, index: number, how: 'stop' | 'kill'): Promise<void>
  /** Operator-stopped (or autostart = false): take no slots for it. */
  held(service: string): boolean
}

export interface SlotKeeperDeps {
  readonly node: ClusterNode
  readonly clock: Clock
  readonly logger: Logger
  readonly services: () => readonly Unit[]
  readonly firstSeen: (unit: string) => number | undefined
  readonly host: InstanceHost
}

/**
 * Services in a cluster (SPEC §13): this node's share of the instance slots. Two loops on the
 * injected clock:
 *
 * - the guard, local only: at each lease's verdict times (lease-verdict.ts) it starts the stop
 *   ladder or kills, whether or not the database answers — a node cut off lets go of its
 *   instances before any other node may take their slots;
 * - the round, every quarter lease (at most a second): takes the slots slotsToTake() gives this
 *   node, starting each instance once its lease is in hand, and lets go of slots the config no
 *   longer has. The node's beat renews the leases (cluster-node.ts) and reports lost ones here.
 *
 * An instance stopped for its lease is released with its fencing token once no process of it is
 * left, so the next holder starts at once rather than at the lease's end.
 */
export class SlotKeeper {
  private guardTimer?: TimerHandle
  private roundTimer?: TimerHandle
  private round?: Promise<void>
  private stopped = false
  /** Leases being let go, and how far (stop, then kill). */
  private readonly letting = new Map<string, 'stop' | 'kill'>()

  constructor(private readonly deps: SlotKeeperDeps) {}

  private get leaseMs(): number {
    return this.deps.node.leaseMs
  }

  /** How often the round runs: the failover delay after a lease expires. */
  get pollMs(): number {
    return Math.max(100, Math.min(1000, this.leaseMs / 4))
  }

  start(): void {
    this.armRound(0)
    this.guard()
  }

  /** Takes no more slots (shutdown: the supervisor stops the instances, the node releases the slots). */
  stop(): void {
    this.stopped = true
    this.roundTimer?.cancel()
    this.guardTimer?.cancel()
  }

  /** The beat found leases the database no longer has as ours: their instances die now. */
  lost(leases: readonly HeldLease[]): void {
    for (const lease of leases) this.letGo(lease, 'kill', 'lost')
  }

  /** Another process now owns this node's name: nothing of ours may keep running. */
  fenced(): void {
    for (const lease of this.deps.node.leases.all()) this.letGo(lease, 'kill', 'fenced')
  }

  /** Runs a round now (tests; a start of a held service). */
  poke(): Promise<void> {
    this.round ??= this.takeSlots()
      .catch((error: unknown) => {
        // Unreachable: the database said so once; the guard keeps time without it.
        if (!(error instanceof ClusterUnavailable)) this.deps.logger.error('cluster.slots_failed', {error: errorMessage(error)})
      })
      .finally(() => (this.round = undefined))
    return this.round
  }

  private armRound(ms: number): void {
    if (this.stopped) return
    this.roundTimer = this.deps.clock.setTimer(ms, () => void this.poke().finally(() => this.armRound(this.pollMs)))
  }

  /** Acts on every lease's verdict now, and wakes again at the next verdict time (or a round's length). */
  private guard(): void {
    this.guardTimer?.cancel()
    if (this.stopped) return
    const {node, clock} = this.deps
    const now = clock.now()
    let next = now + this.pollMs
    for (const v of node.leases.verdicts(now, this.leaseMs, (s) => this.gracefulStopMs(s))) {
      if (v.action !== 'keep') this.letGo(v, v.action, 'expiring')
      if (v.nextAt !== undefined) next = Math.min(next, v.nextAt)
    }
    this.guardTimer = clock.setTimer(Math.max(1, next - now), () => this.guard())
  }

  private gracefulStopMs(service: string): number {
    const unit = this.deps.services().find((u) => u.name === service)
    return unit ? unit.graceful_stop / NS.ms : 0
  }

  private async takeSlots(): Promise<void> {
    const {node, clock, logger, host} = this.deps
    if (!node.healthy || this.stopped) return
    const me = node.me
    const services = this.deps.services().filter((u) => u.kind === 'service')
    const [{nodes}, {slots, dbNow}] = await Promise.all([listNodes(node.db), listSlots(node.db)])
    // Ours in the database but not in the book: a release that failed, or a previous life's.
    for (const row of slots) {
      if (row.live && row.node === me.node && node.leases.get(row.service, row.slot)?.token !== row.token) await releaseSlot(node.db, row)
    }
    for (const lease of node.leases.all()) {
      const unit = services.find((u) => u.name === lease.service)
      if (!unit || !slotKeys(unit, me.node).includes(lease.slot)) this.letGo(lease, 'stop', 'removed')
    }
    const live = nodes.filter((n) => n.live).map((n) => n.name)
    for (const unit of services) {
      if (host.held(unit.name)) continue
      const views = slotViews(slots, unit.name, slotKeys(unit, me.node), this.deps.firstSeen(unit.name) ?? dbNow, dbNow)
      for (const slot of slotsToTake({service: unit, node: me.node, liveNodes: live, slots: views, graceMs: 2 * this.pollMs + 200})) {
        if (node.leases.get(unit.name, slot) || this.stopped || !node.healthy) continue
        const sent = clock.now()
        const token = await acquireSlot(node.db, unit.name, slot, me, this.leaseMs)
        if (token === null) continue
        const lease: Lease = {service: unit.name, slot, token}
        node.leases.acquired(lease, sent, clock.now())
        logger.info('service.slot_taken', {service: unit.name, slot, token, node: me.node})
        if (!host.grant(unit.name, instanceIndex(unit, slot))) this.letGo(node.leases.get(unit.name, slot)!, 'stop', 'removed')
      }
    }
    this.guard()
  }

  /**
   * Stops (or kills) the instance of a lease; once no process of it is left the slot is released
   * with its token (a no-op when another node holds it now) and forgotten.
   */
  private letGo(lease: HeldLease, how: 'stop' | 'kill', why: 'expiring' | 'lost' | 'fenced' | 'removed'): void {
    const {node, host, logger} = this.deps
    const k = `${lease.service}\u0000${lease.slot}`
    const before = this.letting.get(k)
    if (before === 'kill' || before === how) return
    this.letting.set(k, how)
    if (why !== 'removed') logger.warn('service.slot_lost', {service: lease.service, slot: lease.slot, token: lease.token, action: how, why})
    const unit = this.deps.services().find((u) => u.name === lease.service)
    const index = unit ? instanceIndex(unit, lease.slot) : Number(lease.slot) || 0
    void host.revoke(lease.service, index, how).then(async () => {
      if (node.leases.get(lease.service, lease.slot)?.token !== lease.token) return
      node.leases.forget(lease)
      this.letting.delete(k)
      if (lease.lost || !node.healthy) return
      try {
        await releaseSlot(node.db, lease)
      } catch {
        // Unreachable: the lease runs out on its own.
      }
    })
  }
}
