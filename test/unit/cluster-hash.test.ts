import {describe, expect, it} from 'vitest'
import {clusterConfigHash} from '../../src/cluster/cluster-hash.js'

const node = (config_hash: string, started_at: number, live = true) => ({config_hash, started_at, live})

describe('clusterConfigHash: the hash most live nodes run', () => {
  it.each<[string, ReturnType<typeof node>[], string | null]>([
    ['no nodes', [], null],
    ['no live node', [node('x', 1, false)], null],
    ['all agree', [node('x', 1), node('x', 2)], 'x'],
    ['the majority wins', [node('old', 1), node('new', 2), node('new', 3)], 'new'],
    ['a tie goes to the node up the longest', [node('b', 5), node('a', 2)], 'a'],
    ['dead nodes do not vote', [node('x', 1, false), node('x', 2, false), node('y', 3)], 'y'],
  ])('%s', (_name, nodes, expected) => {
    expect(clusterConfigHash(nodes)).toBe(expected)
  })
})
