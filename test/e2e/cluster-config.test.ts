import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {type Daemon, runCli, startDaemon, tempDir} from '../support/cli.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {q, until} from '../support/sandbox.js'

const dirs: {cleanup(): void}[] = []
const daemons: Daemon[] = []
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop('SIGKILL')))
  for (const d of dirs.splice(0)) d.cleanup()
})

function configFile(body: string): {path: string; dir: string} {
  const dir = tempDir('sched-cluster-config-')
  dirs.push(dir)
  const path = join(dir.path, 'sched.toml')
  writeFileSync(path, body)
  return {path, dir: dir.path}
}

it('sched validate reports a bad [cluster] url at its line without printing the password', async () => {
  const {path} = configFile('[cluster]\nurl = "mysql://admin:hunter2@db/x"\nnode = "a"\n')
  const result = await runCli(['validate', '-c', path, '--json'])
  expect(result.code).toBe(1)
  const out = JSON.parse(result.stdout)
  expect(out.errors).toEqual([
    {key: 'cluster.url', line: 2, column: 1, message: 'expected a PostgreSQL URL such as postgres://sched:PASSWORD@db.example:5432/sched, got "mysql://admin:***@db/x"', hint: 'set SCHED_CLUSTER_URL to keep the password out of the file'},
  ])
  expect(result.stdout + result.stderr).not.toContain('hunter2')
})


describePg('a node that runs another config than the cluster', () => {
  it('says so in /api/daemon; after it reloads the cluster\'s config it matches', async () => {
    const url = await freshDatabase()
    const token = 'cluster-config-token-0123456789'
    const one = configFile(`[cluster]\nurl = ${q(url)}\nlease = "2s"\n[tasks.a]\nrun = "true"\n`)
    const other = configFile(`[cluster]\nurl = ${q(url)}\nlease = "2s"\n[tasks.a]\nrun = "false"\n`)
    const start = async (path: string, dir: string, node: string) => {
      const d = await startDaemon(path, join(dir, 'state'), [], {SCHED_CLUSTER_NODE: node, SCHED_API_TOKEN: token})
      daemons.push(d)
      return d
    }
    const n1 = await start(one.path, one.dir, 'n1')
    const n2 = await start(other.path, other.dir, 'n2')
    const info = async (d: Daemon) => ((await (await fetch(`${d.url}/api/daemon`, {headers: {authorization: `Bearer ${token}`}})).json()) as {cluster: Record<string, unknown>}).cluster
    const first = await info(n1)
    expect(first).toMatchObject({node: 'n1', healthy: true, config_matches: true})
    // Two live nodes, two hashes: the node up the longest has the cluster's.
    const second = await info(n2)
    expect(second).toMatchObject({node: 'n2', config_matches: false, cluster_config_hash: first.config_hash})
    expect(second.config_hash).not.toBe(first.config_hash)
    // sched status on n2 says so, and its runs are the cluster's: a run triggered on n1 is n2's task's last run.
    const triggered = (await (await fetch(`${n1.url}/api/tasks/a/run`, {method: 'POST', headers: {authorization: `Bearer ${token}`}})).json()) as {id: string}
    const status = async () => {
      const r = await runCli(['status', '--json', '-c', other.path, '--state-dir', join(other.dir, 'state')], {env: {SCHED_CLUSTER_NODE: 'n2', SCHED_API_TOKEN: token}})
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as {cluster: {node: string; config_matches: boolean}; units: {name: string; last_run: {id: string} | null}[]}
    }
    const shown = await status()
    expect(shown.cluster).toMatchObject({node: 'n2', config_matches: false})
    expect(shown.units.find((u) => u.name === 'a')?.last_run?.id).toBe(triggered.id)
    const text = await runCli(['status', '-c', other.path, '--state-dir', join(other.dir, 'state')], {env: {SCHED_CLUSTER_NODE: 'n2', SCHED_API_TOKEN: token}})
    expect(text.stdout).toContain('cluster node n2')
    expect(text.stdout).toContain('runs another config than the cluster')

    writeFileSync(other.path, readFileSync(one.path))
    expect((await fetch(`${n2.url}/api/daemon/reload`, {method: 'POST', headers: {authorization: `Bearer ${token}`}})).status).toBe(200)
    await until(async () => (await info(n2)).config_matches === true, 10_000, 'n2 to publish the reloaded config')
    expect((await info(n2)).config_hash).toBe(first.config_hash)
  }, 60_000)
})
