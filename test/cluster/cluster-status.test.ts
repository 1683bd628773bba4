import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {acquireSlot} from '../../src/cluster/leases.js'
import {heartbeat, joinCluster, newIncarnation} from '../../src/cluster/nodes.js'
import {configHash} from '../../src/config/config-hash.js'
import {loadConfigFile} from '../../src/config/load.js'
import {runCli, tempDir} from '../support/cli.js'
import {closeDbs, migratedDb} from '../support/cluster.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {unwrap} from '../support/sandbox.js'

const dirs: {cleanup(): void}[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) d.cleanup()
  await closeDbs()
})

const UNITS = '[tasks.backup]\nrun = "true"\ncron = "0 3 * * *"\ntimezone = "UTC"\n[services.web]\nrun = "sleep 100"\ninstances = 2\n'

function configFile(body: string): string {
  const dir = tempDir('sched-cluster-status-')
  dirs.push(dir)
  const path = join(dir.path, 'sched.toml')
  writeFileSync(path, body)
  return path
}

const node = (name: string, configHash: string, host = 'box') => ({name, incarnation: newIncarnation(), advertise: `http://127.0.0.1:${9000 + name.charCodeAt(0)}`, configHash, version: '0.1.0', host, stateDir: `/srv/${name}`, pid: 100})

describePg('sched cluster status', () => {
  it('lists nodes with state, leases, config hash (the odd one marked) and skew; never the password', async () => {
    const {url, db} = await migratedDb()
    const config = configFile(`[cluster]\nnode = "a"\n${UNITS}`)
    const loaded = loadConfigFile(config, {env: {SCHED_CLUSTER_URL: url}})
    if (!loaded.ok) throw new Error('config')
    const hash = configHash(loaded.config.units)
    const a = node('a', hash)
    const b = node('b', hash)
    const c = node('c', 'f'.repeat(64))
    for (const n of [a, b, c]) await joinCluster(db, n, 10_000)
    await heartbeat(db, {node: 'a', incarnation: a.incarnation}, {leaseMs: 10_000, configHash: hash, skewMs: 42.4}, Date.now)
    await acquireSlot(db, 'web', '0', {node: 'a', incarnation: a.incarnation}, 10_000)
    await acquireSlot(db, 'web', '1', {node: 'b', incarnation: b.incarnation}, 10_000)
    // b stopped renewing a lease ago: its heartbeat and its slot have both expired.
    await db.query("UPDATE sched.nodes SET expires_at = now() - interval '1 second' WHERE name = 'b'")
    await db.query("UPDATE sched.slots SET expires_at = now() - interval '1 second' WHERE node = 'b'")

    const json = await runCli(['cluster', 'status', '-c', config, '--json'], {env: {SCHED_CLUSTER_URL: url}})
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    const status = JSON.parse(json.stdout)
    const password = decodeURIComponent(new URL(url).password)
    expect(json.stdout).not.toContain(password)
    expect(status.url).toContain(':***@')
    expect(status).toMatchObject({schema_version: 1, config_hash: hash, local: {node: 'a', config_hash: hash, matches: true}})
    expect(status.nodes.map((n: Record<string, unknown>) => [n.name, n.state, n.config_matches, n.skew_ms, (n.leases as {slot: string}[]).map((l) => l.slot)])).toEqual([
      ['a', 'up', true, 42, ['0']],
      ['b', 'down', true, null, []],
      ['c', 'up', false, null, []],
    ])

    const text = await runCli(['cluster', 'status', '-c', config], {env: {SCHED_CLUSTER_URL: url}})
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`config ${hash.slice(0, 12)} · this file: same`)
    expect(text.stdout).toMatch(/^a \(this config\)\s+up\s+.*web#0\s+\w{12}\s+\+42ms/m)
    expect(text.stdout).toMatch(/^c\s+up\s+.*ffffffffffff ≠/m)
    expect(text.stdout).not.toContain(password)
  })

  it('a database no node has initialised yet: no nodes, said on stderr', async () => {
    const url = await freshDatabase()
    const config = configFile(`[cluster]\nurl = "${url}"\n${UNITS}`)
    const result = await runCli(['cluster', 'status', '-c', config])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('no node has joined this cluster yet')
    expect(result.stdout).toContain('schema 0')
  })

  it('an unreachable database exits 1, naming the URL without its password', async () => {
    const target = new URL(await freshDatabase())
    target.port = '1'
    const config = configFile(`[cluster]\nurl = "${target}"\n`)
    const result = await runCli(['cluster', 'status', '-c', config])
    expect(result.code).toBe(1)
    const password = decodeURIComponent(target.password)
    expect(unwrap(result.stderr)).toContain(`cannot reach the cluster database postgres://sched:***@127.0.0.1:1/`)
    expect(result.stderr + result.stdout).not.toContain(password)
  })
})

it('sched cluster status without [cluster] exits 1 and says so', async () => {
  const config = configFile(UNITS)
  const result = await runCli(['cluster', 'status', '-c', config], {env: {SCHED_CLUSTER_URL: ''}})
  expect(result.code).toBe(1)
  expect(unwrap(result.stderr)).toContain(`${config} has no [cluster] table: this daemon runs on its own`)
})
