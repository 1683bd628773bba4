import {afterEach} from 'vitest'
import type {Daemon} from './cli.js'
import {closeDbs} from './cluster.js'
import {seeded} from './seeded.js'

/**
 * What a cluster e2e file keeps between its tests: the nodes it started (killed with SIGKILL
 * after each test, whatever happened), its temp directories and its database connections. Call
 * once at the top level of the file.
 */
export function clusterCleanup(): {dirs: {cleanup(): void}[]; daemons: Set<Daemon>} {
  const dirs: {cleanup(): void}[] = []
  const daemons = new Set<Daemon>()
  afterEach(async () => {
    await Promise.all([...daemons].map((d) => d.stop('SIGKILL')))
    daemons.clear()
    await closeDbs()
    for (const d of dirs.splice(0)) d.cleanup()
  })
  return {dirs, daemons}
}

/** The random source of a soak test, its seed printed so that a failure can be replayed (SCHED_SOAK_SEED). */
export function soakRandom(label: string): () => number {
  const seed = Number(process.env.SCHED_SOAK_SEED ?? Date.now() % 100_000)
  console.log(`${label}: SCHED_SOAK_SEED=${seed}`)
  return seeded(seed)
}
