import {describe, expect, it} from 'vitest'
import {instanceIndex, type SlotView, slotKeys, slotsToTake} from '../../src/cluster/slot-plan.js'

const GRACE = 3000
const held = (holder: string): SlotView => ({holder, freeForMs: 0})
const free = (freeForMs: number): SlotView => ({holder: null, freeForMs})

function plan(node: string, live: string[], instances: number, slots: Record<string, SlotView>, placement: 'any_node' | 'every_node' = 'any_node') {
  return slotsToTake({service: {instances, placement}, node, liveNodes: live, slots: new Map(Object.entries(slots)), graceMs: GRACE})
}

describe('slotsToTake: any_node', () => {
  it.each<[string, string, string[], number, Record<string, SlotView>, string[]]>([
    ['alone: every slot', 'a', ['a'], 3, {}, ['0', '1', '2']],
    ['three nodes start together: slot i goes to the i-th node by name', 'b', ['c', 'a', 'b'], 3, {}, ['1']],
    ['two nodes, five instances: a prefers 0, 2, 4', 'a', ['a', 'b'], 5, {}, ['0', '2', '4']],
    ['two nodes, five instances: b prefers 1, 3', 'b', ['a', 'b'], 5, {}, ['1', '3']],
    ['a slot held by another live node is left alone', 'a', ['a', 'b'], 2, {'0': held('b')}, []],
    ['a slot this node holds is not taken again', 'a', ['a'], 2, {'0': held('a')}, ['1']],
    ['a free slot preferred by another node, just freed: wait for it', 'a', ['a', 'b'], 2, {'0': held('a'), '1': free(100)}, []],
    ['…free for the grace period, under our share: take it', 'a', ['a', 'b', 'c'], 3, {'0': held('b'), '1': free(GRACE), '2': held('c')}, ['1']],
    ['…free for the grace period but we hold our share: still wait', 'a', ['a', 'b'], 2, {'0': held('a'), '1': free(GRACE)}, []],
    ['…free for twice the grace period: take it whatever the share', 'a', ['a', 'b'], 2, {'0': held('a'), '1': free(2 * GRACE)}, ['1']],
    ['a dead node (no longer live) no longer counts: its slots are preferred by the living', 'b', ['b', 'c'], 3, {'0': free(10), '1': held('c'), '2': held('b')}, ['0']],
    ['one instance, two nodes: only the preferred node takes it at once', 'b', ['a', 'b'], 1, {}, []],
    ['a slot missing from the view counts as just freed', 'b', ['a', 'b'], 1, {}, []],
    ['preferred slots first, then the ones waiting longest enough', 'a', ['a', 'b'], 4, {'1': free(2 * GRACE)}, ['0', '2', '1']],
    ['this node is counted live even if the list missed it', 'a', [], 1, {}, ['0']],
  ])('%s', (_name, node, live, instances, slots, expected) => {
    expect(plan(node, live, instances, slots)).toEqual(expected)
  })
})

describe('slotsToTake: every_node', () => {
  it.each<[string, string, Record<string, SlotView>, string[]]>([
    ['its own slot, named after the node', 'a', {}, ['a']],
    ['never another node\'s, even free for long', 'a', {b: free(1e9)}, ['a']],
    ['nothing when it holds its own', 'a', {a: held('a')}, []],
    ['its own slot still held by its previous life: wait for the lease', 'a', {a: held('a-old')}, []],
  ])('%s', (_name, node, slots, expected) => {
    expect(plan(node, ['a', 'b'], 1, slots, 'every_node')).toEqual(expected)
  })
})

describe('slot keys and instance indexes', () => {
  it('any_node: numbered slots; every_node: the node', () => {
    expect(slotKeys({instances: 3, placement: 'any_node'}, 'a')).toEqual(['0', '1', '2'])
    expect(slotKeys({instances: 1, placement: 'every_node'}, 'a')).toEqual(['a'])
    expect(instanceIndex({instances: 3, placement: 'any_node'}, '2')).toBe(2)
    expect(instanceIndex({instances: 1, placement: 'every_node'}, 'node-7')).toBe(0)
  })
})
