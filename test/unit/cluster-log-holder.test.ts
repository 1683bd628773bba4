import {expect, it} from 'vitest'
import {logHolder, logProblem} from '../../src/api/cluster-problem.js'
import type {LogRefusal} from '../../src/api/log-proxy.js'
import type {RunRecord} from '../../src/state/run-record.js'

const run = (node: string | null | undefined) => ({id: '01K000', node}) as unknown as RunRecord & {node?: string | null}

it.each([
  ['a run of this node', 'a', false, undefined],
  ['a run of no node (queued, or a file-mode record)', null, false, undefined],
  ['a record without a node field', undefined, false, undefined],
  ['a run of another node', 'b', false, 'b'],
  ['a run of another node, asked by a node that forwarded it: answered from this disk, never forwarded again', 'b', true, undefined],
] as const)('%s → %s', (_what, node, proxied, holder) => {
  expect(logHolder(run(node), 'a', proxied)).toBe(holder)
})

const WHERE = 'the log of run 01K000 is on node "b", which ran it, and '
it.each<[LogRefusal, number, string, boolean]>([
  [{kind: 'down', lastSeen: Date.parse('2026-03-01T12:00:00Z')}, 503, 'that node is down (no heartbeat since 2026-03-01T12:00:00.000Z)', true],
  [{kind: 'unknown'}, 503, 'the cluster has no node "b" any more', false],
  [{kind: 'no-advertise'}, 503, 'that node has no [cluster] advertise, so no other node can reach its API: set advertise = "http://HOST:PORT" in its [cluster] (or SCHED_CLUSTER_ADVERTISE)', false],
  [{kind: 'unreachable', advertise: 'http://10.0.0.5:9477', reason: 'connect ECONNREFUSED 10.0.0.5:9477'}, 503, 'that node did not answer at http://10.0.0.5:9477: connect ECONNREFUSED', true],
  [{kind: 'token', advertise: 'http://10.0.0.5:9477', status: 401}, 502, "that node refused this node's API token (HTTP 401 from http://10.0.0.5:9477): every node must have the same SCHED_API_TOKEN", false],
])('%o → %i naming the node', (refusal, status, detail, retry) => {
  const problem = logProblem('01K000', 'b', refusal)
  expect(problem.status).toBe(status)
  expect(problem.detail).toContain(WHERE + detail)
  expect(problem.extra).toEqual({node: 'b'})
  expect(problem.headers['retry-after']).toBe(retry ? '5' : undefined)
})
