import {existsSync, readFileSync} from 'node:fs'
import {expect} from 'vitest'
import {q} from './sandbox.js'

/**
 * Service instances that say who holds their slot: each writes "slot node pid time" ten times a
 * second, so a test reads from the processes themselves who ran each slot when.
 */

export const writer = (file: string) => q(`while :; do echo "$SCHED_INSTANCE $SCHED_NODE $$ $(date +%s%N)" >> ${file}; sleep 0.1; done`)

export interface Beat {
  slot: string
  node: string
  pid: string
  at: number
}

export function beats(path: string): Beat[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .filter((p) => p.length === 4)
    .map(([slot, node, pid, ns]) => ({slot, node, pid, at: Number(BigInt(ns) / 1_000_000n)}))
}

/** Who wrote in the last `withinMs`: slot → the nodes whose instance did. */
export function writing(path: string, withinMs = 400): Map<string, Set<string>> {
  const since = Date.now() - withinMs
  const out = new Map<string, Set<string>>()
  for (const b of beats(path)) if (b.at >= since) out.set(b.slot, (out.get(b.slot) ?? new Set()).add(b.node))
  return out
}

/**
 * Each writer's life is [first beat, last beat]; per slot (per node, for every_node), no two
 * lives overlap. Returns the lives checked.
 */
export function expectOneHolderAtATime(path: string, key: (b: Beat) => string): number {
  const lives = new Map<string, {key: string; who: string; first: number; last: number}>()
  for (const b of beats(path)) {
    const id = `${key(b)}/${b.node}/${b.pid}`
    const life = lives.get(id)
    if (life) life.last = b.at
    else lives.set(id, {key: key(b), who: `${b.node} pid ${b.pid}`, first: b.at, last: b.at})
  }
  const byKey = new Map<string, {who: string; first: number; last: number}[]>()
  for (const l of lives.values()) byKey.set(l.key, [...(byKey.get(l.key) ?? []), l])
  for (const [k, ls] of byKey) {
    ls.sort((a, b) => a.first - b.first)
    for (let i = 1; i < ls.length; i++) {
      expect(ls[i].first, `slot ${k}: ${ls[i].who} started while ${ls[i - 1].who} still wrote`).toBeGreaterThan(ls[i - 1].last)
    }
  }
  return lives.size
}

/** The longest time within [from, to] that no instance of `slot` wrote (ms). */
export function longestGap(path: string, slot: string, from: number, to: number): {ms: number; at: number} {
  const times = beats(path)
    .filter((b) => b.slot === slot && b.at >= from && b.at <= to)
    .map((b) => b.at)
    .sort((a, b) => a - b)
  let gap = {ms: 0, at: from}
  let prev = from
  for (const t of [...times, to]) {
    if (t - prev > gap.ms) gap = {ms: t - prev, at: prev}
    prev = t
  }
  return gap
}
