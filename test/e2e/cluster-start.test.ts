import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {type Daemon, startDaemon, tempDir} from '../support/cli.js'
import {closeDbs, clusterDb} from '../support/cluster.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {q, until} from '../support/sandbox.js'

/**
 * `run_on_start` in a cluster, with real `sched serve` nodes on one database: it runs once when
 * the cluster starts (on the one node that joined with no other live node), not once per node,
 * and not when a node joins a cluster that is already running.
 */

const TOKEN = 'cluster-start-token-0123456789'
const dirs: {cleanup(): void}[] = []
const daemons = new Set<Daemon>()
afterEach(async () => {
  await Promise.all([...daemons].map((d) => d.stop('SIGKILL')))
  daemons.clear()
  await closeDbs()
  for (const d of dirs.splice(0)) d.cleanup()
})

describePg('run_on_start in a cluster', () => {
  it('three nodes starting together run it once; a node restarted into the live cluster does not; a cluster started again does', async () => {
    const url = await freshDatabase()
    const dir = tempDir('sched-cluster-start-')
    dirs.push(dir)
    const out = join(dir.path, 'hello.log')
    const toml = join(dir.path, 'sched.toml')
    writeFileSync(toml, `[cluster]\nurl = ${q(url)}\nlease = "2s"\n\n[tasks.hello]\nrun_on_start = true\nrun = ${q(`echo "$SCHED_NODE" >> ${out}`)}\n`)
    const start = async (name: string) => {
      const d = await startDaemon(toml, join(dir.path, `state-${name}`), [], {SCHED_CLUSTER_NODE: name, SCHED_API_TOKEN: TOKEN})
      daemons.add(d)
      return d
    }
    const db = clusterDb(url)
    const startupRuns = async () => (await db.query<{node: string; status: string}>("SELECT node, status FROM sched.runs WHERE triggered_by = 'startup' ORDER BY id")).rows
    const ranOnce = async (n: number) => {
      await until(async () => {
        const runs = await startupRuns()
        return runs.length === n && runs.every((r) => r.status === 'ended')
      }, 15_000, `${n} startup run(s) ended`)
    }
    const joinedStarting = (d: Daemon) => /"?starts_cluster"?[=:] ?true/.test(d.stderr())

    const nodes = await Promise.all(['n1', 'n2', 'n3'].map(start))
    // Each node decided at its join, before it served: exactly one started the cluster.
    expect(nodes.filter(joinedStarting)).toHaveLength(1)
    await ranOnce(1)
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [])
    expect(lines()).toHaveLength(1)

    // kill -9 of one node, back at once under its name: it joins a live cluster.
    const victim = nodes[0]
    await victim.stop('SIGKILL')
    daemons.delete(victim)
    const back = await start('n1')
    expect(joinedStarting(back)).toBe(false)

    // Every node stopped cleanly (each leaves the cluster); the next to start starts it again.
    await Promise.all([back, nodes[1], nodes[2]].map((d) => d.stop('SIGTERM')))
    for (const d of [back, nodes[1], nodes[2]]) daemons.delete(d)
    const again = await start('n2')
    expect(joinedStarting(again)).toBe(true)
    await ranOnce(2)
    expect(lines()).toHaveLength(2)
    expect((await startupRuns()).at(-1)!.node).toBe('n2')
  })
})
