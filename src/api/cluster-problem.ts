import {ClusterUnavailable} from '../cluster/unavailable.js'
import type {RunRecord} from '../state/run-record.js'
import type {LogRefusal} from './log-proxy.js'
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
 * The node whose disk holds a run's log, when it is not this one: there the request is forwarded
 * (log-proxy.ts). Undefined: answer here — a run of this node, one that never ran on a node
 * (queued, or a file-mode record), or a request another node already forwarded.
 */
export function logHolder(run: RunRecord & {readonly node?: string | null}, me: string, proxied: boolean): string | undefined {
  return run.node && run.node !== me && !proxied ? run.node : undefined
}

/** Why another node's log cannot be served, as a problem naming the node (with `node` in the body). */
export function logProblem(runId: string, node: string, refusal: LogRefusal): HttpProblem {
  const problem = (status: number, detail: string, headers: Record<string, string> = {}) =>
    new HttpProblem(status, detail, [{location: 'path.id', message: `log held by node ${node}`, value: runId}], headers, {node})
  const where = `the log of run ${runId} is on node "${node}", which ran it`
  switch (refusal.kind) {
    case 'down':
      return problem(503, `${where}, and that node is down (no heartbeat since ${new Date(refusal.lastSeen).toISOString()}): its log can be read once it is back`, RETRY)
    case 'unknown':
      return problem(503, `${where}, and the cluster has no node "${node}" any more: its log can be read on that machine's state directory`)
    case 'no-advertise':
      return problem(
        503,
        `${where}, and that node has no [cluster] advertise, so no other node can reach its API: set advertise = "http://HOST:PORT" in its [cluster] (or SCHED_CLUSTER_ADVERTISE) to the URL other nodes reach it at, and restart it`,
      )
    case 'unreachable':
      return problem(503, `${where}, and that node did not answer at ${refusal.advertise}: ${refusal.reason}`, RETRY)
    case 'token':
      return problem(
        502,
        `${where}, and that node refused this node's API token (HTTP ${refusal.status} from ${refusal.advertise}): every node must have the same SCHED_API_TOKEN`,
      )
  }
}

const RETRY = {'retry-after': '5'}
