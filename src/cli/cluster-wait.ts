import type {RunRecord} from '../state/run-record.js'

const POLL_MS = 500

/**
 * `sched trigger --wait` in a cluster: the run's record is in the cluster database, not the
 * state directory, and a queued run may start on any node — so its end is read there, on one
 * connection, until the record has ended.
 */
export async function waitForClusterRun(url: string, id: string): Promise<RunRecord> {
  const [{withConnection}, {getRun}] = await Promise.all([import('../cluster/db.js'), import('../cluster/runs.js')])
  return withConnection(url, async (sql) => {
    for (;;) {
      const run = await getRun(sql, id)
      if (run?.status === 'ended') return run
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  })
}
