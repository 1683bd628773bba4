import type {Config} from '../config/load.js'
import type {SuppliedParams} from '../config/parameters.js'
import {systemClock} from '../core/clock.js'
import {NS} from '../core/duration.js'
import type {Logger} from '../core/logger.js'
import {notStarted} from '../engine/outcomes.js'
import {type RunOwner, type TriggerResult, createRunOwner} from '../engine/run-owner.js'
import {InlineLauncher} from '../engine/runner/inline-launcher.js'
import {claimStateDir} from '../state/claim.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import {DurableRecords} from '../state/durable-records.js'
import {RecordJournal} from '../state/record-journal.js'
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
 * directory, which is claimed for the duration so that no daemon starts beside it. Its process
 * starts in this process: for one run a spawner process would cost more than the spawn it moves.
 */
export async function runInForeground(options: ForegroundOptions): Promise<ForegroundResult> {
  const {config, layout, logger} = options
  const claim = await claimStateDir(layout, {mode: 'foreground', config_path: config.path, command: `sched trigger ${options.unit}`})
  const launcher = new InlineLauncher(process.env, options.onOutput)
  try {
    const units = new Map(config.units.map((u) => [u.name, u]))
    const journal = new RecordJournal(new RunStore(layout, (path, problem) => logger.error('state.corrupt', {path, problem})))
    journal.replay()
    const records = new DurableRecords(journal, {clock: systemClock, logger})
    const owner: RunOwner = createRunOwner({clock: systemClock, logger, layout, store: records, launcher, config: () => config, unit: (name) => units.get(name)})
    let final: RunRecord | undefined
    owner.on('run.ended', (record: RunRecord) => (final = record))
    const trigger = await owner.trigger({unit: options.unit, source: 'cli', params: options.params})
    if (!trigger.ok || notStarted(trigger.outcome)) return {trigger, final: trigger.ok ? trigger.run : undefined}
    await Promise.race([owner.whenIdle(), options.interrupted.then(() => owner.shutdown(config.daemon.shutdown_timeout / NS.ms))])
    await owner.shutdown(0)
    await records.close()
    await owner.flush()
    await journal.close()
    return {trigger, final}
  } finally {
    await launcher.close()
    claim.release()
  }
}
