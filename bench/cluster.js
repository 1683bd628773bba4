#!/usr/bin/env node
// Cluster figures against a real PostgreSQL: `scripts/test-postgres.sh npx tsx bench/cluster.js`
// (or with SCHED_TEST_PG_URL set). Prints one JSON object; README.md ("Running a cluster") and
// docs/cluster.md say what each figure means. Each run uses a database of its own.
import {randomBytes} from 'node:crypto'
import pg from 'pg'

const URL_ = process.env.SCHED_TEST_PG_URL
if (!URL_) {
  console.error('bench/cluster.js needs SCHED_TEST_PG_URL: run it through scripts/test-postgres.sh')
  process.exit(2)
}
const {ClusterDb} = await import('../src/cluster/db.js')
const {migrate} = await import('../src/cluster/schema.js')
const {claimTick, registerTasks} = await import('../src/cluster/ledger.js')
const {admitRun, claimQueued} = await import('../src/cluster/admission.js')
const {saveRun} = await import('../src/cluster/runs.js')
const {systemClock} = await import('../src/core/clock.js')
const {ulid} = await import('../src/core/ulid.js')
const {measureFailover} = await import('./cluster-failover.js')
const {percentile} = await import('../test/support/percentile.ts')

const quiet = {log() {}, info() {}, warn() {}, error() {}}
const name = `bench_${randomBytes(4).toString('hex')}`
const admin = new pg.Client({connectionString: URL_})
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(URL_)
url.pathname = `/${name}`
const dbs = []
const open = (poolSize = 4) => {
  const db = new ClusterDb({url: url.toString(), clock: systemClock, logger: quiet, poolSize})
  dbs.push(db)
  return db
}

const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

function record(task) {
  const now = Date.now()
  return {v: 1, id: ulid(now), task_name: task, kind: 'task', status: 'pending', end_reason: null, exit_code: null, signal: null, triggered_by: 'api', scheduled_at: null,
    created_at: new Date(now).toISOString(), started_at: null, ended_at: null, duration_ms: null, retry_attempt: 0, retry_of_run_id: null, instance_index: null, params: {}, pid: null, log_bytes: 0, message: null}
}
const endUnstarted = (r, reason, message) => ({...r, status: 'ended', end_reason: reason, ended_at: new Date().toISOString(), duration_ms: 0, message})

try {
  const main = open()
  await migrate(main)
  await registerTasks(main, ['tick', 'work'])

  // The added latency of a tick: one claimTick round trip before a cron run is created.
  const claims = []
  const base = Date.parse('2030-01-01T00:00:00Z')
  for (let i = 0; i < 2000; i++) {
    const t = performance.now()
    await claimTick(main, 'tick', base + i * 1000, 'a')
    claims.push(performance.now() - t)
  }

  // Admission of a trigger (row lock, counts, insert) on one node.
  const unit = {name: 'work', on_overlap: 'queue', max_concurrent: 8, queue_max: 10_000}
  const me = {node: 'a', incarnation: '00000000-0000-4000-8000-00000000000a'}
  const admits = []
  // Fill the task's 8 slots so every later run queues, then queue 3000 runs.
  for (let i = 0; i < 3008; i++) {
    const t = performance.now()
    await admitRun(main, unit, record('work'), me, endUnstarted)
    admits.push(performance.now() - t)
  }
  await main.query("UPDATE sched.runs SET status = 'ended', end_reason = 'success' WHERE node IS NOT NULL")

  // Three nodes drain the queue: claim, record running, record ended.
  const nodes = ['a', 'b', 'c'].map((n, i) => ({db: open(4), me: {node: n, incarnation: `00000000-0000-4000-8000-00000000000${i}`}}))
  const started = performance.now()
  let done = 0
  await Promise.all(nodes.map(async ({db, me}) => {
    for (let idle = 0; done < 3000 && idle < 10_000; ) {
      const got = await claimQueued(db, unit, me)
      if (got.length === 0) {
        idle++
        await new Promise((r) => setImmediate(r))
        continue
      }
      await Promise.all(got.map(async (r) => {
        const running = {...r, status: 'running', started_at: new Date().toISOString(), pid: 1}
        await saveRun(db, running, me)
        await saveRun(db, {...running, status: 'ended', end_reason: 'success', exit_code: 0, ended_at: new Date().toISOString(), duration_ms: 0}, me)
        done++
      }))
    }
  }))
  const drainS = (performance.now() - started) / 1000

  // A service instance's failover with real nodes, at the default lease and a short one.
  const failover = {}
  for (const [leaseS, kills] of [[10, 3], [2, 5]]) {
    const db = `${name}_f${leaseS}`
    await admin.query(`CREATE DATABASE ${db}`)
    const u = new URL(URL_)
    u.pathname = `/${db}`
    const times = await measureFailover(u.toString(), {leaseS, kills})
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    failover[`service_failover_lease_${leaseS}s_ms`] = times
  }

  console.log(JSON.stringify({
    tick_claim_p50_ms: round(percentile(claims, 50)),
    tick_claim_p99_ms: round(percentile(claims, 99)),
    admit_p50_ms: round(percentile(admits, 50)),
    admit_p99_ms: round(percentile(admits, 99)),
    queue_claim_runs_per_s_3_nodes: Math.round(done / drainS),
    ...failover,
  }))
} finally {
  await Promise.all(dbs.map((db) => db.close()))
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
