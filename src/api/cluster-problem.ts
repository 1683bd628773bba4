import {ClusterUnavailable} from '../cluster/unavailable.js'
import type {RunRecord} from '../state/run-record.js'
import {HttpProblem} from './problem.js'

/** A read the cluster database cannot answer now: 503, saying so, never a 500. */
export async function unreachableAs503<T>(read: Promise<T>): Promise<T> {
  try {
    return await read
  } catch (error) {
    if (error instanceof ClusterUnavailable) throw new HttpProblem(503, error.message, undefined, {'retry-after': '5'})
    throw error
  }
}

/**
 * A run's log stays on the node that ran it. Until nodes proxy logs to each other (a later step
 * of issue 12), another node answers 503 naming the node that holds it, so a client knows where
 * to ask.
 */
export function logElsewhere(run: RunRecord & {readonly node?: string | null}, me: string): HttpProblem | undefined {
  if (!run.node || run.node === me) return undefined
  return new HttpProblem(
    503,
    `the log of run ${run.id} is on node "${run.node}", which ran it; this node (${me}) does not proxy logs yet: ask node "${run.node}"'s API`,
    [{location: 'path.id', message: `log held by node ${run.node}`, value: run.id}],
    {},
    {node: run.node},
  )
}
