import {existsSync} from 'node:fs'
import type {Sql} from '../cluster/db.js'
import {SchedError} from '../core/errors.js'
import type {LogLine} from '../logs/format.js'
import {type LogPage, followLog, readLogPage} from '../logs/reader.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import {type RunEntry, RunStore} from '../state/runs.js'
import type {DaemonApi} from './daemon-api.js'

/** A run whose log `sched logs` shows. */
export interface LoggedRun {
  readonly id: string
  readonly unit: string
  readonly kind: RunRecord['kind']
  readonly instance: number | null
}

/**
 * Where `sched logs` finds runs and reads their logs: the state directory on its own, or — in a
 * cluster — the cluster database for the runs, and for a log this node's disk when it is there,
 * else this node's daemon (it forwards to the node that ran the run). The command's flow (newest
 * run, -n, -f across restarts) is one.
 */
export interface LogSource {
  find(id: string): Promise<LoggedRun | undefined>
  latest(unit: string): Promise<LoggedRun | undefined>
  /** Whether the unit has ever had a run here. */
  hasRuns(unit: string): Promise<boolean>
  /** The oldest run of the unit's instance newer than `after`, if one exists yet. */
  nextOfInstance(unit: string, after: string, instance: number | null): Promise<LoggedRun | undefined>
  page(run: LoggedRun, from: number, limit: number): Promise<LogPage>
  /** Every line from `from` (negative: from the end) until the run ends. */
  follow(run: LoggedRun, from: number, print: (line: LogLine) => void): Promise<void>
}

export class StateDirLogs implements LogSource {
  private readonly store: RunStore

  constructor(private readonly layout: StateLayout) {
    this.store = new RunStore(layout)
  }

  async find(id: string) {
    return this.logged(this.store.findById(id))
  }

  async latest(unit: string) {
    return this.logged(this.store.latest(unit))
  }

  async hasRuns(unit: string) {
    return this.store.units().includes(unit)
  }

  async nextOfInstance(unit: string, after: string, instance: number | null) {
    let found: RunEntry | undefined
    for (const e of this.store.newest(unit)) {
      if (e.id <= after) break
      if (this.store.readSync(e)?.instance_index === instance) found = e
    }
    return this.logged(found)
  }

  page(run: LoggedRun, from: number, limit: number) {
    return readLogPage(this.layout.logFile(run.unit, run.id), {from, limit})
  }

  follow(run: LoggedRun, from: number, print: (line: LogLine) => void): Promise<void> {
    return new Promise((resolve) => {
      const handle = followLog(this.layout.logFile(run.unit, run.id), from, print, () => {
        handle.close()
        resolve()
      })
    })
  }

  private logged(entry: RunEntry | undefined): LoggedRun | undefined {
    if (!entry) return undefined
    const record = this.store.readSync(entry)
    return {id: entry.id, unit: entry.unit, kind: record?.kind ?? 'task', instance: record?.instance_index ?? null}
  }
}

/** How many of a unit's newest runs are looked through for an instance's next run. */
const NEXT_RUN_WINDOW = 100

export class ClusterLogs implements LogSource {
  private readonly here: StateDirLogs

  constructor(
    private readonly sql: Sql,
    private readonly layout: StateLayout,
    /** This node's daemon, asked only for a log that is not on this disk (it may be absent). */
    private readonly api: () => DaemonApi,
  ) {
    this.here = new StateDirLogs(layout)
  }

  async find(id: string) {
    const {getRun} = await import('../cluster/runs.js')
    return logged(await getRun(this.sql, id))
  }

  async latest(unit: string) {
    return logged((await this.newest(unit, 1))[0])
  }

  async hasRuns(unit: string) {
    return (await this.latest(unit)) !== undefined
  }

  async nextOfInstance(unit: string, after: string, instance: number | null) {
    const newer = (await this.newest(unit, NEXT_RUN_WINDOW)).filter((r) => r.id > after && r.instance_index === instance)
    return logged(newer.at(-1))
  }

  page(run: LoggedRun, from: number, limit: number) {
    if (this.onThisDisk(run)) return this.here.page(run, from, limit)
    return this.api().json<LogPage>(`/api/runs/${run.id}/log?from=${from}&limit=${limit}`)
  }

  async follow(run: LoggedRun, from: number, print: (line: LogLine) => void): Promise<void> {
    if (this.onThisDisk(run)) return this.here.follow(run, from, print)
    let done = false
    await this.api().events(`/api/runs/${run.id}/log/stream?from=${from}`, (event, data) => {
      if (event === 'line') print(JSON.parse(data) as LogLine)
      if (event !== 'done') return true
      done = true
      return false
    })
    if (!done) throw new SchedError(`the log stream of run ${run.id} ended before the run did`, {hint: `follow it again: sched logs ${run.id} -f`})
  }

  /** A log this node wrote needs no daemon: the CLI reads it as on its own. */
  private onThisDisk(run: LoggedRun): boolean {
    return existsSync(this.layout.logFile(run.unit, run.id))
  }

  private async newest(unit: string, limit: number): Promise<RunRecord[]> {
    const {queryClusterRuns} = await import('../cluster/runs.js')
    return (await queryClusterRuns(this.sql, {task: unit, limit})).runs
  }
}

function logged(record: RunRecord | undefined): LoggedRun | undefined {
  return record && {id: record.id, unit: record.task_name, kind: record.kind, instance: record.instance_index}
}
