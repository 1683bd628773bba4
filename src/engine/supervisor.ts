import {EventEmitter} from 'node:events'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import type {StopCause} from './end-reason.js'
import {type RestartDecision, afterExit} from './restart-policy.js'
import type {ExitSummary, Run} from './run.js'
import type {RunOwner} from './run-owner.js'

export type SlotStatus = 'starting' | 'running' | 'backoff' | 'stopped' | 'fatal'
export type ServiceStatus = 'running' | 'starting' | 'backoff' | 'stopped' | 'fatal'

export interface InstanceState {
  readonly index: number
  readonly status: SlotStatus
  readonly pid: number | null
  readonly run_id: string | null
  /** Consecutive restarts since the instance was last healthy. */
  readonly restarts: number
}

export interface ServiceState {
  readonly status: ServiceStatus
  readonly instances: readonly InstanceState[]
}

interface Slot {
  readonly index: number
  status: SlotStatus
  run?: Run
  restarts: number
  fastFailures: number
  timer?: TimerHandle
  /** An operator stopped this instance's run alone: it starts again at once (cycleInstance). */
  cycling?: boolean
}

interface Service {
  unit: Unit
  slots: Slot[]
  /** Stopped by an operator, or not started (autostart = false): nothing restarts it. */
  held: boolean
  /**
   * Operator stops so far. A stop ladder can take graceful_stop: a restart still waiting for its
   * instances to end must not bring them back after a later stop.
   */
  stops: number
  /** The stop of its instances under way (operator stop, restart, reload), if any. */
  stopping?: Promise<void>
  /**
   * In a cluster, the instances whose slot lease this node holds (SlotKeeper): only these may
   * run here. Undefined on a node of its own, where every instance is this node's.
   */
  granted?: Set<number>
}

/** The part of the run owner a supervisor uses. */
export type ServiceRuns = Pick<RunOwner, 'startInstance'>

export interface SupervisorDeps {
  readonly clock: Clock
  readonly logger: Logger
  readonly runs: ServiceRuns
  /** Cluster mode: an instance runs only once grant() says this node holds its slot. */
  readonly placed?: boolean
}

/**
 * Keeps services running: N instance slots per service, each refilled in the same slot by its
 * `restart` policy after `restart_delay` with backoff; a streak of fast failures beyond
 * `start_retries` makes the slot FATAL. Every instance's life is one run (`triggered_by =
 * "service"`). Emits `service.state` (name, state) whenever a service's state changes, and
 * `service.restart` (name, index) when an exited instance is scheduled to start again.
 */
export class Supervisor extends EventEmitter {
  private readonly services = new Map<string, Service>()
  private closing = false
  /** Ends the boot-time dependency waits still pending. */
  private readonly waits = new Set<() => void>()

  constructor(private readonly deps: SupervisorDeps) {
    super()
    // Every SSE client listens here; their number is bounded by connections, not by a constant.
    this.setMaxListeners(0)
  }

  /**
   * Boot (SPEC §2 priority, depends_on): services start lowest priority first, ties by name,
   * each once the services it depends on are healthy — or after 2 × their healthy_after + 30 s,
   * with a warning. Resolves when every autostart service has been started.
   */
  async boot(units: readonly Unit[]): Promise<void> {
    const services = units.filter((u) => u.kind === 'service').sort(byPriority)
    for (const unit of services) this.services.set(unit.name, this.newService(unit, !unit.autostart))
    await Promise.all(
      services.map(async (unit) => {
        if (!unit.autostart) {
          this.changed(unit.name)
          return
        }
        await this.dependencies(unit)
        if (this.closing) return
        const svc = this.services.get(unit.name)
        if (svc && !svc.held) this.fill(svc)
      }),
    )
  }

  /** This node's instances (in a cluster, the ones it holds slots for). */
  state(name: string): ServiceState | undefined {
    const svc = this.services.get(name)
    if (!svc) return undefined
    const instances = mine(svc).map((s) => ({index: s.index, status: s.status, pid: s.run?.record.pid ?? null, run_id: s.run?.id ?? null, restarts: s.restarts}))
    return {status: overall(svc), instances}
  }

  /** True when every instance (of this node's) has been up for healthy_after. */
  healthy(name: string): boolean {
    const svc = this.services.get(name)
    return svc !== undefined && mine(svc).every((s) => s.status === 'running')
  }

  /** Held by an operator stop (or autostart = false): no instance of it should start. */
  held(name: string): boolean {
    return this.services.get(name)?.held ?? true
  }

  /**
   * Cluster mode: this node now holds the lease of instance `index` of `name` — start it (unless
   * the service is held). False when there is no such instance here.
   */
  grant(name: string, index: number): boolean {
    const svc = this.services.get(name)
    const slot = svc?.slots[index]
    if (!svc?.granted || !slot) return false
    svc.granted.add(index)
    if (!slot.run && !svc.held) {
      this.reset(slot)
      this.launch(svc, slot)
      this.changed(name)
    }
    return true
  }

  /**
   * Cluster mode: the lease of instance `index` is running out or lost — stop it with its
   * ladder, or SIGKILL it now. It does not start again here until granted again. Resolves when
   * no process of it is left.
   */
  async revoke(name: string, index: number, how: 'stop' | 'kill'): Promise<void> {
    const svc = this.services.get(name)
    const slot = svc?.slots[index]
    if (!svc || !slot) return
    svc.granted?.delete(index)
    slot.timer?.cancel()
    slot.timer = undefined
    const run = slot.run
    if (!run) {
      slot.status = 'stopped'
      this.changed(name)
      return
    }
    if (how === 'kill') run.killNow('lease')
    else run.stop('lease')
    await run.ended
  }

  /** Starts a stopped, FATAL or autostart = false service; clears FATAL and the restart counters. */
  start(name: string): 'started' | 'running' | 'unknown' {
    const svc = this.services.get(name)
    if (!svc) return 'unknown'
    const idle = svc.slots.filter((s) => !s.run)
    if (!svc.held && idle.length === 0) return 'running'
    svc.held = false
    for (const slot of idle) this.reset(slot)
    this.fill(svc)
    // Instances still going down come back once the stop is over — after whoever stopped them
    // (a restart or a reload) has had its say; a later stop holds them again.
    void svc.stopping?.then(() => {
      for (const slot of svc.slots) if (!slot.run && slot.status === 'stopped') this.reset(slot)
      this.fill(svc)
    })
    return 'started'
  }

  /** Stops every instance with its ladder; the service stays stopped until started again. */
  async stop(name: string, cause: StopCause = 'operator'): Promise<boolean> {
    const svc = this.services.get(name)
    if (!svc) return false
    svc.held = true
    svc.stops++
    await this.stopSlots(svc, cause)
    return true
  }

  /**
   * `sched stop <run-id>` on one instance: the service is kept running, so that instance is
   * stopped with its ladder and started again in its slot at once (not counted as a failure).
   * Resolves when the old run has ended; false when the run is not an instance of this service.
   */
  async cycleInstance(name: string, runId: string): Promise<boolean> {
    const slot = this.services.get(name)?.slots.find((s) => s.run?.id === runId)
    if (!slot?.run) return false
    const run = slot.run
    slot.cycling = true
    run.stop('operator')
    await run.ended
    return true
  }

  /** Cycles every instance: stopped with its ladder, then started again at once. */
  async restart(name: string, cause: StopCause = 'operator'): Promise<boolean> {
    const svc = this.services.get(name)
    if (!svc) return false
    svc.held = true
    const stops = svc.stops
    await this.stopSlots(svc, cause)
    if (this.closing || svc.stops !== stops) return true
    svc.held = false
    for (const slot of svc.slots) this.reset(slot)
    this.fill(svc)
    return true
  }

  /**
   * Shutdown: dependents stop before their dependencies; whatever is still alive when
   * `timeoutMs` runs out is killed (`daemon_stopped`).
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.closing = true
    // Nothing starts any more, and the daemon awaits boot() before it exits: a dependent still
    // waiting for its dependency must not hold shutdown for up to 2 × healthy_after + 30 s.
    for (const giveUp of [...this.waits]) giveUp()
    const deadline = this.deps.clock.setTimer(timeoutMs, () => {
      for (const svc of this.services.values()) for (const slot of svc.slots) slot.run?.kill()
    })
    const stopped = new Map<string, Promise<void>>()
    const stopInOrder = (svc: Service): Promise<void> => {
      let done = stopped.get(svc.unit.name)
      if (!done) {
        const dependents = [...this.services.values()].filter((s) => s.unit.depends_on.includes(svc.unit.name))
        done = Promise.all(dependents.map(stopInOrder)).then(() => {
          svc.held = true
          return this.stopSlots(svc, 'shutdown')
        })
        stopped.set(svc.unit.name, done)
      }
      return done
    }
    await Promise.all([...this.services.values()].map(stopInOrder))
    deadline.cancel()
  }

  /**
   * Reload: new definitions. A changed service restarts its instances (unless an operator
   * stopped it), a removed one stops, an added one starts as it would at boot.
   */
  async reload(units: readonly Unit[], changed: ReadonlySet<string>): Promise<void> {
    const next = new Map(units.filter((u) => u.kind === 'service').map((u) => [u.name, u]))
    const work: Promise<unknown>[] = []
    for (const [name, svc] of this.services) {
      if (next.has(name)) continue
      // Removed: nothing may start it again while its instances go down.
      svc.held = true
      work.push(this.stopSlots(svc, 'reload').then(() => this.services.delete(name)))
    }
    for (const unit of [...next.values()].sort(byPriority)) {
      const svc = this.services.get(unit.name)
      if (!svc) {
        const added = this.newService(unit, !unit.autostart)
        this.services.set(unit.name, added)
        if (added.held) this.changed(unit.name)
        else this.fill(added)
      } else if (changed.has(unit.name)) {
        work.push(this.replace(svc, unit))
      }
    }
    await Promise.all(work)
  }

  // ------------------------------------------------------------------------------------------

  private async replace(svc: Service, unit: Unit): Promise<void> {
    const wasHeld = svc.held
    svc.held = true
    await this.stopSlots(svc, 'reload')
    svc.unit = unit
    svc.slots = slotsFor(unit)
    // The slot keeper lets go of the leases of instances the new definition no longer has.
    if (svc.granted) svc.granted = new Set([...svc.granted].filter((i) => i < unit.instances))
    svc.held = wasHeld
    if (!wasHeld && !this.closing) this.fill(svc)
    else this.changed(unit.name)
  }

  private newService(unit: Unit, held: boolean): Service {
    return {unit, slots: slotsFor(unit), held, stops: 0, ...(this.deps.placed ? {granted: new Set<number>()} : {})}
  }

  private async dependencies(unit: Unit): Promise<void> {
    const waits = unit.depends_on.map(async (dep) => {
      const depUnit = this.services.get(dep)?.unit
      const limit = 2 * ((depUnit?.healthy_after ?? 0) / NS.ms) + 30_000
      const ok = await this.waitHealthy(dep, limit)
      if (!ok && !this.closing) this.deps.logger.warn('service.dependency_unhealthy', {service: unit.name, depends_on: dep, waited_ms: limit})
    })
    await Promise.all(waits)
  }

  private waitHealthy(name: string, limitMs: number): Promise<boolean> {
    if (this.healthy(name)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const onState = (changed: string) => {
        if (changed !== name || !this.healthy(name)) return
        finish(true)
      }
      const timer = this.deps.clock.setTimer(limitMs, () => finish(false))
      const finish = (ok: boolean) => {
        timer.cancel()
        this.off('service.state', onState)
        this.waits.delete(giveUp)
        resolve(ok)
      }
      const giveUp = () => finish(false)
      this.waits.add(giveUp)
      this.on('service.state', onState)
    })
  }

  private fill(svc: Service): void {
    // FATAL holds until a start/restart resets the slot: a boot-time dependency wait that ends
    // after an operator start must not revive it.
    for (const slot of mine(svc)) if (!slot.run && slot.status !== 'backoff' && slot.status !== 'fatal') this.launch(svc, slot)
    this.changed(svc.unit.name)
  }

  private reset(slot: Slot): void {
    slot.timer?.cancel()
    slot.timer = undefined
    slot.restarts = 0
    slot.fastFailures = 0
    slot.status = 'stopped'
  }

  private launch(svc: Service, slot: Slot): void {
    if (this.closing || svc.held || (svc.granted && !svc.granted.has(slot.index))) return
    const unit = svc.unit
    let decision: RestartDecision | undefined
    const {run, launched} = this.deps.runs.startInstance(unit, slot.index, (exit) => {
      decision = this.decide(svc, slot, exit)
      return {fatal: decision.fatal}
    })
    slot.run = run
    slot.status = 'starting'
    slot.timer?.cancel()
    slot.timer = undefined
    void run.ended.then((record) => this.exited(svc, slot, run, record.end_reason!, decision!))
    void launched.then(() => {
      if (slot.run !== run || run.isEnded) return
      const healthyMs = unit.healthy_after / NS.ms
      if (healthyMs === 0) this.becameHealthy(svc, slot, run)
      else slot.timer = this.deps.clock.setTimer(healthyMs, () => this.becameHealthy(svc, slot, run))
      this.changed(unit.name)
    })
  }

  private becameHealthy(svc: Service, slot: Slot, run: Run): void {
    if (slot.run !== run) return
    slot.timer = undefined
    slot.status = 'running'
    slot.restarts = 0
    slot.fastFailures = 0
    this.changed(svc.unit.name)
  }

  /** At the exit, before the end reason is written: restart, back off, or FATAL (start_failed). */
  private decide(svc: Service, slot: Slot, exit: ExitSummary): RestartDecision {
    const stoppedBySched = exit.stopped || svc.held || this.closing
    // The end reason says whether it failed; FATAL, decided from the same facts, says start_failed.
    const failure = !exit.clean && !stoppedBySched
    return afterExit(svc.unit, slot, {livedMs: exit.livedMs, clean: exit.clean, stoppedBySched, failure})
  }

  private exited(svc: Service, slot: Slot, run: Run, reason: string, decision: RestartDecision): void {
    const unit = run.unit
    if (slot.run !== run) return
    slot.timer?.cancel()
    slot.timer = undefined
    slot.run = undefined
    if (slot.cycling) {
      slot.cycling = false
      if (!svc.held && !this.closing) {
        this.launch(svc, slot)
        return
      }
    }
    slot.restarts = decision.counters.restarts
    slot.fastFailures = decision.counters.fastFailures
    switch (decision.next.action) {
      case 'fatal':
        slot.status = 'fatal'
        this.deps.logger.error('service.fatal', {service: unit.name, instance: slot.index, fast_failures: slot.fastFailures, end_reason: reason})
        break
      case 'restart':
        slot.status = 'backoff'
        this.emit('service.restart', unit.name, slot.index)
        slot.timer = this.deps.clock.setTimer(decision.next.delayMs, () => {
          slot.timer = undefined
          if (slot.status === 'backoff') this.launch(svc, slot)
        })
        break
      case 'none':
        slot.status = 'stopped'
    }
    this.changed(unit.name)
  }

  private stopSlots(svc: Service, cause: StopCause): Promise<void> {
    const running: Run[] = []
    for (const slot of svc.slots) {
      slot.timer?.cancel()
      slot.timer = undefined
      if (slot.run) {
        running.push(slot.run)
        slot.run.stop(cause)
      } else {
        slot.status = 'stopped'
      }
    }
    this.changed(svc.unit.name)
    const done = Promise.all(running.map((r) => r.ended)).then(() => {
      if (svc.stopping === done) svc.stopping = undefined
    })
    svc.stopping = done
    return done
  }

  private changed(name: string): void {
    this.emit('service.state', name, this.state(name))
  }
}

function slotsFor(unit: Unit): Slot[] {
  return Array.from({length: unit.instances}, (_, index) => ({index, status: 'stopped' as SlotStatus, restarts: 0, fastFailures: 0}))
}

/** The slots that run on this node: all of them, or in a cluster those it holds leases for. */
function mine(svc: Service): Slot[] {
  const granted = svc.granted
  return granted ? svc.slots.filter((s) => granted.has(s.index)) : svc.slots
}

function byPriority(a: Unit, b: Unit): number {
  return a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/** One word for a service: FATAL wins, then stopped, then whatever its slots are doing. */
function overall(svc: Service): ServiceStatus {
  const statuses = mine(svc).map((s) => s.status)
  // A cluster node without instances of it: the service runs on other nodes, unless stopped.
  if (statuses.length === 0) return svc.held ? 'stopped' : 'running'
  if (statuses.includes('fatal')) return 'fatal'
  if (statuses.every((s) => s === 'running')) return 'running'
  if (statuses.every((s) => s === 'stopped')) return 'stopped'
  if (statuses.includes('backoff')) return 'backoff'
  return 'starting'
}
