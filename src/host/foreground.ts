import type {Config} from '../config/load.js'
import type {SuppliedParams} from '../config/parameters.js'
import {systemClock} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {Logger} from '../core/logger.js'
import {Executor, type TriggerResult} from '../engine/executor.js'
import {RunLifecycle} from '../engine/run-lifecycle.js'
import {claimStateDir} from '../state/claim.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import {RunStore} from '../state/runs.js'

export interface ForegroundOptions {
  readonly config: Config
  readonly layout: StateLayout
  readonly logger: Logger
  readonly unit: string
  readonly params: SuppliedParams
  /** Receives the run's output as it is written (stdout, stderr, and sched's own lines). */
  readonly onOutput: (stream: 'stdout' | 'stderr' | 'system', payload: Buffer) => void
  /** Resolves when the caller wants the run stopped (Ctrl-C). */
  readonly interrupted: Promise<void>
}

export interface ForegroundResult {
  readonly trigger: TriggerResult
  /** The last run of the chain (after retries), once it ended. */
  readonly final?: RunRecord
}

/**
 * `sched trigger` with no daemon: the run executes in this process, recorded in the same state
 * directory, which is claimed for the duration so that no daemon starts beside it.
 */
export async function runInForeground(options: ForegroundOptions): Promise<ForegroundResult> {
  const {config, layout, logger} = options
  const claim = await claimStateDir(layout, {mode: 'foreground', config_path: config.path, command: `sched trigger ${options.unit}`})
  try {
    const units = new Map(config.units.map((u) => [u.name, u]))
    const runs = new RunLifecycle({
      clock: systemClock,
      logger,
      store: new RunStore(layout, (path, problem) => logger.error('state.corrupt', {path, problem})),
      layout,
      daemonEnv: process.env,
      secrets: (name) => config.secrets.get(name) ?? {},
      shutdownTimeout: () => config.daemon.shutdown_timeout,
    })
    const executor = new Executor({clock: systemClock, runs, unit: (name) => units.get(name)})
    let final: RunRecord | undefined
    runs.on('run.started', (record: RunRecord) => {
      runs.get(record.id)?.attempt?.writer.on('frame', (stream: 'stdout' | 'stderr' | 'system', _ts: number, payload: Buffer) => options.onOutput(stream, payload))
    })
    runs.on('run.ended', (record: RunRecord) => (final = record))
    const trigger = await executor.trigger({unit: options.unit, source: 'cli', params: options.params})
    if (!trigger.ok || trigger.outcome === 'skipped' || trigger.outcome === 'queue_full') return {trigger, final: trigger.ok ? trigger.run : undefined}
    await Promise.race([executor.whenIdle(), options.interrupted.then(() => executor.shutdown(config.daemon.shutdown_timeout / NS.ms))])
    await executor.shutdown(0)
    await runs.flush()
    return {trigger, final}
  } finally {
    claim.release()
  }
}
