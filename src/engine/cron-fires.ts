import type {ScheduleSpec} from '../cron/expression.js'
import {scheduleFor} from '../cron/schedule.js'
import type {Clock} from '../core/clock.js'
import {NS} from '../core/duration.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import {ulidTime} from '../core/ulid.js'
import type {RunRecord} from '../state/run-record.js'
import type {RunEntry} from '../state/runs.js'
import type {UnitBooks} from '../state/unit-books.js'
import {type CatchUpPlan, missedMessage, planCatchUp} from './catch-up.js'
import type {ClusterPort} from './cluster-port.js'
import type {JitterGate} from './jitter-gate.js'
import {iso} from './run.js'
import {type RunOwner, endedUnstarted} from './run-owner.js'
import type {DueTick} from './scheduler.js'

export interface CronFiresDeps {
  readonly clock: Clock
  readonly logger: Logger
  readonly owner: RunOwner
  readonly books: UnitBooks
  readonly gate: JitterGate
  /** Cluster mode: a tick becomes a run only on the node that claims it in the fire ledger. */
  readonly cluster?: Pick<ClusterPort, 'claimTick' | 'catchUp' | 'firstSeen'>
}

/**
 * What a cron tick becomes (SPEC §4): a run through the owner — past the jitter gate when the
 * task has a jitter — or a `dst_skipped` record; and at boot, the `missed` record and catch-up
 * runs for ticks that passed while no daemon ran. Each tick handled moves the task's anchor.
 */
export class CronFires {
  constructor(private readonly deps: CronFiresDeps) {}

  /**
   * Boot: each cron task's catch-up anchor, read before any boot-time run exists (a run_on_start
   * run must not hide a gap); a task new to the state directory gets its book, and no anchor.
   */
  anchors(units: readonly Unit[], entries: readonly RunEntry[], read: (entry: RunEntry) => RunRecord | undefined, now: number): Map<string, number | undefined> {
    const {books} = this.deps
    const anchors = new Map<string, number | undefined>()
    const newestTicks = newestTickRuns(entries)
    for (const unit of units) {
      const book = books.get(unit.name)
      anchors.set(unit.name, book ? catchUpAnchor(newestTicks.get(unit.name), read, Date.parse(book.last_tick ?? book.first_seen)) : undefined)
      books.ensure(unit.name, now)
    }
    return anchors
  }

  /**
   * Boot: every cron task's missed ticks, per its catch_up — in a cluster once cluster-wide, where
   * a database that cannot be reached costs this boot's catch-up, never a tick run twice.
   */
  async catchUpAll(units: readonly Unit[], schedules: ReadonlyMap<string, ScheduleSpec>, anchors: ReadonlyMap<string, number | undefined>, now: number, startedAt: number): Promise<void> {
    for (const unit of units) {
      const spec = schedules.get(unit.name)!
      const anchor = anchors.get(unit.name)
      if (!this.deps.cluster) {
        if (anchor !== undefined) await this.catchUp(unit, spec, anchor, now)
        continue
      }
      try {
        await this.catchUpInCluster(unit, spec, now, startedAt)
      } catch (error) {
        this.deps.logger.error('cluster.catch_up_failed', {task: unit.name, error: errorMessage(error)})
      }
    }
  }

  /** Missed ticks (SPEC §4.3): one `missed` record, then the catch-up runs the policy asks for. */
  async catchUp(unit: Unit, spec: ScheduleSpec, anchor: number, now: number): Promise<void> {
    const {books} = this.deps
    // @every counted from the previous daemon's start; its last tick carries that rhythm.
    const schedule = scheduleFor(spec, unit.timezone, anchor)
    const plan = planCatchUp(schedule, anchor, now, unit.catch_up, unit.max_catch_up_runs)
    if (plan.missed === 0 || plan.latestMissed === undefined) return
    books.update(unit.name, now, {last_tick: iso(plan.latestMissed)})
    this.startCatchUp(unit, plan)
  }

  /**
   * Cluster mode: catch-up planned, claimed on the fire ledger and admitted in one transaction
   * (src/cluster/catch-up-claim.ts), so that after an outage of the whole cluster the first node
   * to boot catches up, the others find nothing missed, and no tick is ever claimed without its
   * run. `@every` counts from when the cluster first saw the task, as every node's scheduler does.
   */
  async catchUpInCluster(unit: Unit, spec: ScheduleSpec, now: number, fallbackAnchor: number): Promise<void> {
    const {owner, logger} = this.deps
    const cluster = this.deps.cluster!
    const schedule = scheduleFor(spec, unit.timezone, cluster.firstSeen(unit.name) ?? fallbackAnchor)
    const records = {
      run: (at: number) => owner.draft(unit, 'catch_up', {scheduledAt: at}),
      missed: (plan: CatchUpPlan) => endedUnstarted(owner.draft(unit, 'cron', {scheduledAt: plan.latestMissed}), 'missed', missedMessage(plan), now),
    }
    const claim = await cluster.catchUp(unit, schedule, now, records, (record, reason, message) => endedUnstarted(record, reason, message, now))
    if (!claim.missed && claim.admitted.length === 0) return
    logger.warn('task.missed', {task: unit.name, ticks: claim.plan.missed, catch_up: unit.catch_up})
    if (claim.missed) owner.takeAdmitted(claim.missed, false)
    for (const {run, decision} of claim.admitted) owner.takeAdmitted(run, decision.action === 'start')
  }

  private startCatchUp(unit: Unit, plan: CatchUpPlan): void {
    const {owner, logger} = this.deps
    if (plan.latestMissed !== undefined) owner.recordEnded(unit, 'cron', 'missed', {scheduledAt: plan.latestMissed, message: missedMessage(plan)})
    logger.warn('task.missed', {task: unit.name, ticks: plan.missed, catch_up: unit.catch_up})
    for (const at of plan.runs) void owner.trigger({unit: unit.name, source: 'catch_up', scheduledAt: at})
  }

  /** Resolves once the tick is handed on: its run on its way to admission, or its record decided. */
  async tick(due: DueTick): Promise<void> {
    const {clock, books, cluster, logger} = this.deps
    books.update(due.unit.name, clock.now(), {last_tick: iso(due.tick.at)}, {lazy: true})
    // In a cluster a tick that fires is claimed with its run's admission (RunOwner), so a tick
    // is never claimed without its run; a node that loses the claim, or cannot reach the
    // database, does nothing for the tick.
    if (!cluster || due.tick.kind === 'fire') return this.fire(due)
    // A dst_skipped tick is only a record: claimed first, recorded by the node that won it.
    await cluster.claimTick(due.unit.name, due.tick.at).then(
      (won) => {
        if (won) this.fire(due)
      },
      (error: unknown) => logger.error('cluster.claim_failed', {task: due.unit.name, scheduled_at: iso(due.tick.at), error: errorMessage(error)}),
    )
  }

  private fire({unit, tick, coalesced}: DueTick): void {
    const {owner, gate} = this.deps
    if (tick.kind === 'dst_skipped') {
      owner.recordEnded(unit, 'cron', 'dst_skipped', {scheduledAt: tick.at, message: 'repeated wall-clock time on a DST fall-back day; the first occurrence ran'})
      return
    }
    const message = coalesced > 0 ? `${coalesced} earlier tick${coalesced === 1 ? '' : 's'} came due at the same time (suspend or clock jump) and ${coalesced === 1 ? 'was' : 'were'} folded into this run` : undefined
    if (unit.jitter === 0) {
      void owner.trigger({unit: unit.name, source: 'cron', scheduledAt: tick.at, message})
      return
    }
    gate.enter(tick.at + unit.jitter / NS.ms, (pass) => {
      let released = !pass.holds
      const release = () => {
        if (released) return
        released = true
        gate.release()
      }
      // The gate is held while the run executes; a run that did not start frees it at once.
      void owner.trigger({unit: unit.name, source: 'cron', scheduledAt: tick.at, message}).then((r) => {
        if (r.ok && r.outcome === 'started') void r.ended.then(release)
        else release()
      })
    })
  }
}

/** The newest cron or catch-up run of each unit, from the boot's one listing of every run (oldest first). */
export function newestTickRuns(entries: readonly RunEntry[]): Map<string, RunEntry> {
  const newest = new Map<string, RunEntry>()
  for (const entry of entries) if (entry.triggered_by === 'cron' || entry.triggered_by === 'catch_up') newest.set(entry.unit, entry)
  return newest
}

/**
 * Where catch-up counts from: the unit book's last tick, or the tick the unit's newest cron or
 * catch-up run holds when that is later. The record is durable before the book is written, so a
 * kill between the two must not let the next boot start that tick again. A run's tick is never
 * after its creation, so a run created before the book's tick is not read.
 */
export function catchUpAnchor(newest: RunEntry | undefined, read: (entry: RunEntry) => RunRecord | undefined, bookAnchor: number): number {
  if (!newest || ulidTime(newest.id) < bookAnchor) return bookAnchor
  const at = read(newest)?.scheduled_at
  return at ? Math.max(bookAnchor, Date.parse(at)) : bookAnchor
}
