import {groupAlive, killRuns, type RunTarget} from './process-group.js'

/**
 * The leftover check at the end of every run (no process outlives its run), batched: the runs
 * that end in the same turn of the event loop share one walk of /proc. Without it a burst of a
 * thousand ends costs a thousand walks, each reading every newer process's environment, and the
 * spawner that reports exits stalls for seconds.
 */
export class LeftoverSweep {
  private batch: {target: RunTarget; done: (killed: number) => void}[] = []

  /** @param live pids of runs still running: their environment names their own run, never read. */
  constructor(private readonly live: ReadonlySet<number>) {}

  /** Kills what is left of a run whose leader `pid` has exited; resolves to how many were found. */
  sweep(runId: string, pid: number): Promise<number> {
    return new Promise((done) => {
      if (this.batch.length === 0) setImmediate(() => this.flush())
      this.batch.push({target: {runId, pgid: pid, since: pid}, done})
    })
  }

  private flush(): void {
    const batch = this.batch
    this.batch = []
    // A group whose members are all gone is not signalled: its id may belong to someone else by now.
    const targets = batch.map(({target}) => (groupAlive(target.pgid!) ? target : {...target, pgid: null}))
    const counts = killRuns(targets, this.live)
    for (const {target, done} of batch) done(counts.get(target.runId) ?? 0)
  }
}
