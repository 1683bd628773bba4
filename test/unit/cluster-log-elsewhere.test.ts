import {expect, it} from 'vitest'
import {logElsewhere} from '../../src/api/cluster-problem.js'
import type {RunRecord} from '../../src/state/run-record.js'

const run = (node: string | null | undefined) => ({id: '01K000', node}) as unknown as RunRecord & {node?: string | null}

it.each([
  ['a run of this node', 'a', undefined],
  ['a run of no node (queued, or a file-mode record)', null, undefined],
  ['a record without a node field', undefined, undefined],
  ['a run of another node', 'b', 503],
] as const)('%s: served here unless its log is on another node', (_what, node, status) => {
  const problem = logElsewhere(run(node), 'a')
  expect(problem?.status).toBe(status)
  if (problem) {
    expect(problem.detail).toBe('the log of run 01K000 is on node "b", which ran it; this node (a) does not proxy logs yet: ask node "b"\'s API')
    expect(problem.extra).toEqual({node: 'b'})
  }
})
