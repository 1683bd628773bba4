import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {type Daemon, runCli, startDaemon, tempDir} from '../support/cli.js'
import {clusterDb} from '../support/cluster.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {q, sleep, until, unwrap} from '../support/sandbox.js'
import {expectOneHolderAtATime, longestGap, writer, writing} from '../support/slot-beats.js'
import {clusterCleanup, soakRandom} from '../support/cluster-e2e.js'

/**
 * Issue 12 with real processes: three `sched serve` nodes (ports 0, separate state directories,
 * one shared sched.toml, names from SCHED_CLUSTER_NODE) on one fresh database run per-second
 * cron tasks while one node at a time is `kill -9`ed and started again; manual triggers of a
 * `max_concurrent = 1` task are spread over the live nodes. Then: every tick inside the window
 * was claimed once in the ledger and started once (the ledger and the run records agree, and
 * the processes themselves wrote each run id once); every trigger executed exactly once; no two
 * runs of the one-at-a-time task overlapped (by the times its processes wrote); a three-instance
 * service and an every_node one ran throughout: no slot went unwritten for longer than the lease
 * and 2 s, and none ever had two writers (test/support/slot-beats.ts). SCHED_SOAK=1 (set by
 * .ci/run) runs 60 s with 20 per-second tasks and four kills.
 */

const SOAK = process.env.SCHED_SOAK === '1'
const WINDOW_MS = SOAK ? 60_000 : 15_000
const TICK_TASKS = SOAK ? 20 : 3
const LEASE_MS = 2000
const KILLS = SOAK ? 4 : 1
const TOKEN = 'cluster-e2e-token-0123456789'
const NAMES = ['n1', 'n2', 'n3'] as const

const {dirs, daemons} = clusterCleanup()

function config(url: string, dir: string): string {
  const ticks = join(dir, 'ticks.log')
  const solo = join(dir, 'solo.log')
  const tasks = Array.from({length: TICK_TASKS}, (_, i) => `[tasks.tick${i}]\ncron = "* * * * * *"\nmax_concurrent = 5\nrun = ${q(`echo "$SCHED_RUN_ID" >> ${ticks}`)}\n`)
  return `[cluster]
url = ${q(url)}
lease = "${LEASE_MS / 1000}s"

[services.web]
instances = 3
healthy_after = "0s"
run = ${writer(join(dir, 'web.log'))}

[services.agent]
placement = "every_node"
healthy_after = "0s"
run = ${writer(join(dir, 'agent.log'))}

${tasks.join('\n')}
[tasks.solo]
max_concurrent = 1
on_overlap = "queue"
queue_max = 1000
run = ${q(`echo "start $SCHED_RUN_ID $(date +%s%N)" >> ${solo}; sleep 0.4; echo "end $SCHED_RUN_ID $(date +%s%N)" >> ${solo}`)}
`
}

const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [])

describePg('three sched serve nodes on one database', () => {
  it(`tick once, trigger once, one at a time — while nodes are killed with SIGKILL (${WINDOW_MS / 1000} s, ${KILLS} kill${KILLS === 1 ? '' : 's'})`, async () => {
    const rnd = soakRandom('cluster nodes')
    const url = await freshDatabase()
    const dir = tempDir('sched-cluster-nodes-')
    dirs.push(dir)
    const toml = join(dir.path, 'sched.toml')
    writeFileSync(toml, config(url, dir.path))

    const nodes = new Map<string, Daemon>()
    const start = async (name: string) => {
      const d = await startDaemon(toml, join(dir.path, `state-${name}`), [], {SCHED_CLUSTER_NODE: name, SCHED_API_TOKEN: TOKEN})
      daemons.add(d)
      nodes.set(name, d)
      return d
    }
    for (const name of NAMES) await start(name)
    for (const [name, d] of nodes) {
      expect((await fetch(`${d.url}/healthz`)).status).toBe(200)
      const info = (await (await fetch(`${d.url}/api/daemon`, {headers: {authorization: `Bearer ${TOKEN}`}})).json()) as {cluster?: unknown}
      expect(info.cluster).toMatchObject({node: name, healthy: true, config_matches: true})
      const metrics = await (await fetch(`${d.url}/metrics`, {headers: {authorization: `Bearer ${TOKEN}`}})).text()
      expect(metrics).toContain(`sched_cluster_healthy{node="${name}"} 1\n`)
      expect(metrics).toContain('sched_cluster_nodes_live 3\n')
    }

    const windowStart = Date.now() + 1000
    const windowEnd = windowStart + WINDOW_MS
    const kills: {node: string; at: number}[] = []
    const killAt = Array.from({length: KILLS}, (_, i) => windowStart + ((i + 0.3 + rnd() * 0.4) * WINDOW_MS) / KILLS)
    const triggered: string[] = []
    const refusedWhileDown: string[] = []

    while (Date.now() < windowEnd) {
      if (killAt.length && Date.now() >= killAt[0]) {
        killAt.shift()
        // A node that runs web instances now, so that each kill moves some.
        const holders = [...new Set([...writing(join(dir.path, 'web.log')).values()].flatMap((n) => [...n]))].filter((n) => nodes.has(n))
        const pool = holders.length ? holders : [...nodes.keys()]
        const name = pool[Math.floor(rnd() * pool.length)]
        const victim = nodes.get(name)!
        kills.push({node: name, at: Date.now()})
        await victim.stop('SIGKILL')
        daemons.delete(victim)
        nodes.delete(name)
        // Back after a while, under the same name and state directory.
        setTimeout(() => void start(name), 1500 + rnd() * 2000)
      }
      // A manual trigger on a live node, round robin.
      const live = [...nodes.values()]
      const target = live[triggered.length % live.length]
      try {
        const res = await fetch(`${target.url}/api/tasks/solo/run`, {method: 'POST', headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body: '{}'})
        const body = (await res.json()) as {id?: string; status?: string}
        if (res.status === 202 || res.status === 200 || res.status === 201) triggered.push(body.id!)
        else refusedWhileDown.push(`${res.status} ${JSON.stringify(body)}`)
      } catch (error) {
        // The node died under the request: not accepted, so not counted.
        refusedWhileDown.push(String(error))
      }
      await sleep(700)
    }
    // Every node is up again before the end, so each can be asked.
    await until(() => nodes.size === NAMES.length, 30_000, 'the killed node to be back')

    const db = clusterDb(url)
    // The queued triggers drain (one at a time, 0.4 s each).
    await until(
      async () => (await db.query("SELECT 1 FROM sched.runs WHERE task_name = 'solo' AND status <> 'ended'")).rowCount === 0,
      60_000 + triggered.length * 1000,
      'the triggered runs to finish',
    )
    // `sched trigger --wait` through a node: the end is read from the database, wherever it ran.
    const waited = await runCli(['trigger', 'solo', '--wait', '--json', '-c', toml, '--state-dir', join(dir.path, 'state-n1')], {env: {SCHED_CLUSTER_NODE: 'n1'}})
    expect(waited.code, waited.stderr).toBe(0)
    const waitedRun = JSON.parse(waited.stdout) as {id: string; status: string; end_reason: string}
    expect(waitedRun).toMatchObject({status: 'ended', end_reason: 'success'})
    triggered.push(waitedRun.id)
    for (const d of nodes.values()) expect(await d.stop('SIGTERM')).toBe(0)
    // With no daemon on the node, a trigger is refused: a run in the CLI's process would bypass the cluster.
    const alone = await runCli(['trigger', 'solo', '-c', toml, '--state-dir', join(dir.path, 'state-n1')])
    expect(alone.code).toBe(4)
    expect(unwrap(alone.stderr)).toContain('in a cluster a task runs through a node')
    for (const d of nodes.values()) daemons.delete(d)

    // --- ticks: each second of the window claimed once, started once, on the claiming node.
    const {rows: ledger} = await db.query<{task: string; at: Date; node: string}>('SELECT task, scheduled_at AS at, node FROM sched.fire_ledger')
    const {rows: runs} = await db.query<{id: string; task_name: string; scheduled_at: Date | null; started_at: Date | null; end_reason: string | null; node: string | null; triggered_by: string}>(
      'SELECT id, task_name, scheduled_at, started_at, end_reason, node, triggered_by FROM sched.runs',
    )
    const executed = lines(join(dir.path, 'ticks.log'))
    expect(executed.length, 'no tick run executed twice').toBe(new Set(executed).size)
    const started = new Map<string, typeof runs>()
    for (const r of runs) {
      if (!r.task_name.startsWith('tick') || !r.started_at || !r.scheduled_at) continue
      const key = `${r.task_name}@${r.scheduled_at.getTime()}`
      started.set(key, [...(started.get(key) ?? []), r])
    }
    for (const [key, rs] of started) expect(rs.map((r) => `${r.id} ${r.triggered_by} on ${r.node}`), `${key} started once`).toHaveLength(1)
    const claimed = new Map(ledger.map((l) => [`${l.task}@${l.at.getTime()}`, l.node]))
    const killed = new Set(kills.map((k) => k.node))
    for (let s = Math.ceil(windowStart / 1000) * 1000; s <= windowEnd; s += 1000) {
      for (let i = 0; i < TICK_TASKS; i++) {
        const key = `tick${i}@${s}`
        expect(claimed.has(key), `${key} in the fire ledger`).toBe(true)
        // Claimed and admitted in one transaction: a claimed tick always has its run.
        const run = started.get(key)?.[0]
        expect(run, `${key} claimed by ${claimed.get(key)} and started`).toBeDefined()
        // On the claiming node — or, when that node was killed before starting it, on the node
        // that took it from the queue the dead node's runs went back to.
        if (!killed.has(claimed.get(key)!)) expect(run!.node, `${key}: the run is on the node that claimed it`).toBe(claimed.get(key))
      }
    }

    // --- triggers: every accepted one executed exactly once, one at a time cluster-wide.
    const solo = lines(join(dir.path, 'solo.log')).map((l) => l.split(' '))
    const starts = solo.filter((l) => l[0] === 'start')
    expect(starts.length, 'no trigger executed twice').toBe(new Set(starts.map((l) => l[1])).size)
    expect(new Set(starts.map((l) => l[1]))).toEqual(new Set(triggered))
    const soloRuns = runs.filter((r) => r.task_name === 'solo')
    expect(soloRuns.map((r) => r.id).sort()).toEqual([...triggered].sort())
    for (const r of soloRuns) expect(['success', 'crashed'], `${r.id} ended ${r.end_reason}`).toContain(r.end_reason)
    const ends = new Map(solo.filter((l) => l[0] === 'end').map((l) => [l[1], BigInt(l[2])]))
    const intervals = starts.map((l) => ({id: l[1], start: BigInt(l[2]), end: ends.get(l[1])})).sort((a, b) => (a.start < b.start ? -1 : 1))
    for (let i = 1; i < intervals.length; i++) {
      const prev = intervals[i - 1]
      // A run whose node was killed may have been killed with it: it wrote no end, and the next
      // could start only after the dead node's lease, when its run was ended `crashed`.
      if (prev.end !== undefined) expect(intervals[i].start >= prev.end, `${intervals[i].id} started before ${prev.id} ended`).toBe(true)
    }
    // --- services: at strength within lease + 2 s of each kill, never two holders of a slot.
    const web = join(dir.path, 'web.log')
    for (const slot of ['0', '1', '2']) {
      const gap = longestGap(web, slot, windowStart, windowEnd)
      expect(gap.ms, `web slot ${slot} unwritten for ${gap.ms} ms from ${new Date(gap.at).toISOString()}`).toBeLessThanOrEqual(LEASE_MS + 2000)
    }
    const lives = expectOneHolderAtATime(web, (b) => b.slot) + expectOneHolderAtATime(join(dir.path, 'agent.log'), (b) => b.node)

    // `sched runs` (no daemon) reads the same records from the database, each with its node.
    const listed = await runCli(['runs', 'solo', '--json', '--limit', '10000', '-c', toml, '--state-dir', join(dir.path, 'state-n1')])
    expect(listed.code, listed.stderr).toBe(0)
    const cliRuns = JSON.parse(listed.stdout) as {id: string; node: string}[]
    expect(cliRuns.map((r) => r.id).sort()).toEqual([...triggered].sort())
    expect(cliRuns.every((r) => (NAMES as readonly string[]).includes(r.node))).toBe(true)
    console.log(
      `cluster nodes: ${ledger.length} ticks claimed, ${started.size} started; ${triggered.length} triggers (${refusedWhileDown.length} refused); kills ${JSON.stringify(kills.map((k) => k.node))}; ${lives} service instance lives`,
    )
  }, SOAK ? 300_000 : 120_000)

  // run_on_start runs once when the cluster starts (on the one node that joined with no other
  // live node), not once per node, and not when a node joins a cluster that is already running.
  it('run_on_start: three nodes starting together run it once; a node restarted into the live cluster does not; a cluster started again does', async () => {
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
