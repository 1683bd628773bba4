import {type FSWatcher, watch} from 'node:fs'
import type {SuppliedParams} from '../config/parameters.js'
import {ExitCode, SchedError, describeWriteError} from '../core/errors.js'
import type {ControlAnswer} from '../engine/control.js'
import type {ReloadAnswer} from '../engine/daemon.js'
import type {TriggerAnswer} from '../engine/outcomes.js'
import {type DaemonInfo, liveDaemon} from '../state/claim.js'
import {fullDiskProblem} from '../state/disk-space.js'
import type {StateLayout} from '../state/layout.js'
import type {RunRecord} from '../state/run-record.js'
import {type DaemonRequest, awaitResponse, writeRequest} from '../state/requests.js'
import {RunStore} from '../state/runs.js'
import type {NotifyTestAnswer} from '../notify/notifications.js'
import {type AnswerCheck, isControlAnswer, isNotifyTestAnswer, isReloadAnswer, isTriggerAnswer} from './answers.js'

/** How long a running daemon may take to pick up a request before the CLI gives up. */
const ANSWER_TIMEOUT_MS = 10_000
/** How often a wait for a run's end checks that the daemon is still there. */
const LIVENESS_EVERY_MS = 1000

/**
 * The CLI's one way to talk to a running daemon: requests through the state directory (no HTTP,
 * no token), answers checked and typed, and one way to wait for a run's end. Every command that
 * acts (trigger, stop, start, restart, reload) goes through it; none waits forever.
 */
export class DaemonClient {
  private constructor(
    readonly layout: StateLayout,
    readonly info: DaemonInfo,
  ) {}

  /** The daemon serving this state directory, or exit 4 saying so. */
  static connect(layout: StateLayout): DaemonClient {
    const client = DaemonClient.find(layout)
    if (!client) throw new SchedError(`no daemon is serving ${layout.root}`, {exit: ExitCode.noDaemon, hint: 'start one with: sched serve'})
    return client
  }

  /** The daemon serving this state directory, if one does. */
  static find(layout: StateLayout): DaemonClient | undefined {
    const info = liveDaemon(layout)
    return info?.mode === 'serve' ? new DaemonClient(layout, info) : undefined
  }

  trigger(unit: string, params: SuppliedParams): Promise<TriggerAnswer> {
    return this.ask({type: 'trigger', unit, params}, isTriggerAnswer)
  }

  /** stop, start, restart; `graceMs` is how long the stop ladders may take before the answer. */
  control(request: DaemonRequest & {type: 'stop' | 'start' | 'restart'}, graceMs: number): Promise<ControlAnswer> {
    return this.ask(request, isControlAnswer, graceMs)
  }

  reload(): Promise<ReloadAnswer> {
    return this.ask({type: 'reload'}, isReloadAnswer)
  }

  /** One test message through a notifier; `sendMs` is how long the remote may take to answer. */
  notifyTest(notifier: string, sendMs: number): Promise<NotifyTestAnswer> {
    return this.ask({type: 'notify-test', notifier}, isNotifyTestAnswer, sendMs)
  }

  /**
   * Resolves with the run's record once it has ended. The daemon renames the record file when
   * the run ends, so a watch on the unit's run folder wakes us (a poll covers filesystems without
   * inotify). If the daemon goes away before the run ends, this ends with an error, not a hang.
   */
  waitForEnd(run: {readonly task_name: string; readonly id: string}): Promise<RunRecord> {
    const store = new RunStore(this.layout)
    return new Promise((resolve, reject) => {
      let watcher: FSWatcher | undefined
      let lastLiveness = Date.now()
      const finish = (error: Error | undefined, record?: RunRecord) => {
        clearInterval(poll)
        watcher?.close()
        if (error) reject(error)
        else resolve(record!)
      }
      const check = () => {
        const entry = store.find(run.task_name, run.id)
        const record = entry && entry.state !== 'active' ? store.readSync(entry) : undefined
        if (record?.status === 'ended') return finish(undefined, record)
        if (Date.now() - lastLiveness < LIVENESS_EVERY_MS) return
        lastLiveness = Date.now()
        // The daemon keeps the run's end in memory while the disk is full; no file will tell us.
        const full = fullDiskProblem(this.layout.root)
        if (full) {
          return finish(
            new SchedError(`cannot follow run ${run.id} to its end: ${full}, so the daemon cannot write the run's record`, {
              hint: `free space there; the daemon writes the record then. Meanwhile the API answers it: GET /api/runs/${run.id}`,
            }),
          )
        }
        const daemon = liveDaemon(this.layout)
        if (daemon?.pid !== this.info.pid) {
          finish(
            new SchedError(`the daemon (pid ${this.info.pid}) stopped before run ${run.id} ended`, {
              exit: ExitCode.noDaemon,
              hint: `a run it left running is recorded crashed when a daemon starts again: sched serve, then sched runs ${run.task_name}`,
            }),
          )
        }
      }
      const poll = setInterval(check, 200)
      try {
        watcher = watch(this.layout.runsDir(run.task_name), () => check())
        watcher.on('error', () => {})
      } catch {
        // the poll still works
      }
      check()
    })
  }

  private async ask<T>(request: DaemonRequest, check: AnswerCheck<T>, waitMs = 0): Promise<T> {
    let id: string
    try {
      id = writeRequest(this.layout, request)
    } catch (error) {
      const full = fullDiskProblem(this.layout.root)
      throw new SchedError(`cannot send the request to the daemon: writing into ${this.layout.requestsDir} failed: ${describeWriteError(error)}`, {
        hint: full ? `${full}: free space there, then try again` : `make ${this.layout.requestsDir} writable for this user, then try again`,
      })
    }
    const limit = ANSWER_TIMEOUT_MS + waitMs
    const response = await awaitResponse(this.layout, id, limit)
    if (!response) {
      const full = fullDiskProblem(this.layout.root)
      if (full) {
        // It may have acted and only failed to write its answer.
        throw new SchedError(`the daemon (pid ${this.info.pid}) could not answer within ${limit / 1000}s: ${full}`, {
          hint: 'free space there, then check what happened: sched runs (a trigger that could not be recorded was refused; nothing half-made is left)',
        })
      }
      throw new SchedError(`the daemon (pid ${this.info.pid}) did not answer within ${limit / 1000}s`, {exit: ExitCode.noDaemon, hint: 'check that it is healthy: sched status'})
    }
    if (!check(response.answer)) {
      throw new SchedError(`the daemon (pid ${this.info.pid}, sched ${this.info.version}) answered in a form this sched does not understand`, {
        hint: 'run the same sched version as the daemon, or restart the daemon',
      })
    }
    return response.answer
  }
}
