import {ClusterUnavailable} from '../cluster/unavailable.js'
import {errorMessage} from '../core/errors.js'
import type {Logger} from '../core/logger.js'
import type {Unit} from '../core/types.js'
import type {ClusterPort, ClusterWork} from './cluster-port.js'
import type {StopCause} from './end-reason.js'
import type {RunOwner} from './run-owner.js'

/** The stop causes another node may ask for; anything else is an operator's stop. */
const REMOTE_CAUSES: ReadonlySet<string> = new Set<StopCause>(['terminate', 'operator'])

/**
 * What a wake-up becomes on this node: queued runs it can take (claimed under the cluster's
 * counts, started here oldest first) and stops other nodes asked of its runs. Each kind of work
 * runs one pass at a time; a wake-up during a pass asks for one more pass, so a burst of
 * notifications costs two passes, not one per notification.
 */
export class ClusterFeed implements ClusterWork {
  private readonly passes = new Map<'work' | 'stops', {running: boolean; again: boolean}>([
    ['work', {running: false, again: false}],
    ['stops', {running: false, again: false}],
  ])

  constructor(
    private readonly deps: {
      readonly cluster: ClusterPort
      readonly owner: RunOwner
      readonly logger: Logger
      unit(name: string): Unit | undefined
    },
  ) {}

  work(): void {
    this.pass('work', async () => {
      const {cluster, owner} = this.deps
      if (!owner.accepting) return
      for (const record of await cluster.claimQueued((name) => this.deps.unit(name))) owner.startClaimed(record)
    })
  }

  stops(): void {
    this.pass('stops', async () => {
      const {cluster, owner} = this.deps
      for (const {id, cause} of await cluster.pendingStops()) owner.stopRun(id, REMOTE_CAUSES.has(cause) ? (cause as StopCause) : 'operator')
    })
  }

  private pass(kind: 'work' | 'stops', body: () => Promise<void>): void {
    const state = this.passes.get(kind)!
    if (state.running) {
      state.again = true
      return
    }
    state.running = true
    void (async () => {
      do {
        state.again = false
        try {
          await body()
        } catch (error) {
          // Unreachable: the database said so once and probes; the next wake-up or poll retries.
          if (!(error instanceof ClusterUnavailable)) this.deps.logger.error('cluster.work_failed', {kind, error: errorMessage(error)})
        }
      } while (state.again)
      state.running = false
    })()
  }
}
