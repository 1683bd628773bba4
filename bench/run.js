#!/usr/bin/env node
// The benchmark: runs the built CLI against generated configs and state directories and prints
// one JSON object. `npm run bench` builds first; `npx tsx bench/run.js lateness rss` runs a subset.
// README.md ("Benchmarks") says how to read each figure.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const BIN = join(ROOT, 'bin', 'run.js')
const {RunStore, runRelativePath} = await import('../src/state/runs.js')
const {StateLayout} = await import('../src/state/layout.js')
const {awaitResponse, writeRequest} = await import('../src/state/requests.js')
const {percentile} = await import('../test/support/percentile.ts')

const work = mkdtempSync(join(tmpdir(), 'sched-bench-'))
process.on('exit', () => rmSync(work, {recursive: true, force: true}))

function dir(name) {
  const d = join(work, name)
  mkdirSync(d, {recursive: true})
  return d
}

const median = (values) => percentile(values, 50)
const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

/** Starts `sched serve` and resolves once it prints its URL. */
async function serve(config, state, env = {}) {
  const started = performance.now()
  const child = spawn(process.execPath, [BIN, 'serve', '-c', config, '--state-dir', state, '--port', '0'], {
    env: {...process.env, NO_COLOR: '1', ...env},
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d
      const m = /sched serving (\S+)/.exec(stderr)
      if (m) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)))
  })
  const bootMs = performance.now() - started
  const token = readFileSync(join(state, 'api-token'), 'utf8').trim()
  return {
    child,
    url,
    token,
    bootMs,
    stop: () => new Promise((resolve) => {
      child.removeAllListeners('exit')
      child.on('exit', resolve)
      child.kill('SIGTERM')
    }),
  }
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024
}

function runStore(state) {
  return new RunStore(new StateLayout(state))
}

/** How many runs of a task have ended. */
function endedCount(state, task) {
  return runStore(state)
    .list(task)
    .filter((e) => e.state !== 'active').length
}

/** Finished runs only: their files no longer change. */
function endedRuns(state, task) {
  const store = runStore(state)
  return store
    .list(task)
    .filter((e) => e.state !== 'active')
    .map((e) => store.readSync(e))
    .filter(Boolean)
}

/** Cron lateness of 20 per-second tasks over 15 s: alone, and while 100 runs/s are triggered over HTTP. */
async function cronLateness() {
  return {...(await lateness(0)), ...(await lateness(100))}
}

async function lateness(triggersPerSecond) {
  const name = `lateness-${triggersPerSecond}`
  const config = join(dir(name), 'sched.toml')
  let toml = '[tasks.load]\nrun = "true"\nmax_concurrent = 16\nqueue_max = 10000\n\n'
  for (let i = 0; i < 20; i++) toml += `[tasks.sec-${i}]\nrun = "true"\ncron = "* * * * * *"\non_overlap = "skip"\n\n`
  writeFileSync(config, toml)
  const state = dir(`${name}/state`)
  const daemon = await serve(config, state)
  const until = performance.now() + 15_000
  const triggers = []
  if (triggersPerSecond > 0) {
    // Paced against the clock, not by sleeps alone, so the rate holds when a sleep runs long.
    const started = performance.now()
    for (let sent = 0; performance.now() < until; ) {
      const due = Math.floor(((performance.now() - started) / 1000) * triggersPerSecond)
      for (; sent < due; sent++) {
        triggers.push(fetch(`${daemon.url}/api/tasks/load/run`, {method: 'POST', headers: {authorization: `Bearer ${daemon.token}`}}).then((r) => r.arrayBuffer()))
      }
      await sleep(5)
    }
  } else await sleep(15_000)
  await Promise.all(triggers)
  await daemon.stop()
  const late = []
  for (let i = 0; i < 20; i++) {
    for (const r of endedRuns(state, `sec-${i}`)) {
      if (r.triggered_by === 'cron' && r.started_at) late.push(Date.parse(r.started_at) - Date.parse(r.scheduled_at))
    }
  }
  const suffix = triggersPerSecond ? `_while_${triggersPerSecond}_runs_per_s` : ''
  return {
    [`cron_lateness_p50_ms${suffix}`]: round(median(late)),
    [`cron_lateness_p99_ms${suffix}`]: round(percentile(late, 99)),
    [`cron_lateness_samples${suffix}`]: late.length,
    ...(triggersPerSecond ? {[`triggered_runs${suffix}`]: endedRuns(state, 'load').length} : {}),
  }
}

/**
 * Cron lateness while every run fails and each failure is a message (coalesce "0s") to a remote
 * that takes 2 s to answer: delivery must not slow the scheduler.
 */
async function notifyStorm() {
  const {createServer} = await import('node:http')
  let received = 0
  const remote = createServer((req, res) => {
    req.resume()
    received++
    setTimeout(() => res.end('ok'), 2000)
  })
  await new Promise((resolve) => remote.listen(0, '127.0.0.1', resolve))
  const config = join(dir('notify'), 'sched.toml')
  let toml = `[notifiers.slow]\nkind = "webhook"\nurl = "http://127.0.0.1:${remote.address().port}/hook"\nrate_limit = 10000\n\n[[route]]\nnotifiers = ["slow"]\ncoalesce = "0s"\n\n`
  for (let i = 0; i < 20; i++) toml += `[tasks.sec-${i}]\nrun = "exit 1"\ncron = "* * * * * *"\non_overlap = "skip"\n\n`
  writeFileSync(config, toml)
  const state = dir('notify/state')
  const daemon = await serve(config, state)
  await sleep(15_000)
  await daemon.stop()
  remote.closeAllConnections()
  remote.close()
  const lateness = []
  for (let i = 0; i < 20; i++) {
    for (const r of endedRuns(state, `sec-${i}`)) {
      if (r.triggered_by === 'cron' && r.started_at) lateness.push(Date.parse(r.started_at) - Date.parse(r.scheduled_at))
    }
  }
  return {
    notify_storm_cron_lateness_p50_ms: round(median(lateness)),
    notify_storm_cron_lateness_p99_ms: round(percentile(lateness, 99)),
    notify_storm_messages: received,
  }
}

/** A figure that swings by a third from run to run on a 2-core machine: the median of three fresh daemons, and the three. */
async function medianOf3(key, round1) {
  const rounds = []
  for (let i = 0; i < 3; i++) rounds.push(await round1(i))
  return {[key]: median(rounds), [`${key}_rounds`]: rounds}
}

function throughput() {
  return medianOf3('throughput_runs_per_s', throughputRound)
}

async function throughputRound(i) {
  const config = join(dir(`throughput-${i}`), 'sched.toml')
  writeFileSync(config, '[tasks.t]\nrun = "true"\nmax_concurrent = 8\nqueue_max = 10000\n')
  const state = dir(`throughput-${i}/state`)
  const daemon = await serve(config, state)
  const n = 500
  const started = performance.now()
  await Promise.all(
    Array.from({length: n}, () =>
      fetch(`${daemon.url}/api/tasks/t/run`, {method: 'POST', headers: {authorization: `Bearer ${daemon.token}`}}).then((r) => r.arrayBuffer()),
    ),
  )
  // Done when every run's final record is on disk.
  for (;;) {
    const ended = endedCount(state, 't')
    if (ended >= n) break
    await sleep(20)
  }
  const seconds = (performance.now() - started) / 1000
  await daemon.stop()
  return round(n / seconds, 1)
}

function logCapture() {
  return medianOf3('log_capture_mb_per_s', logCaptureRound)
}

async function logCaptureRound(i) {
  const config = join(dir(`logs-${i}`), 'sched.toml')
  const mb = 100
  // 100-byte lines (99 characters and a newline), 100 MB in all.
  writeFileSync(config, `[tasks.chatty]\nrun = "yes ${'x'.repeat(99)} | head -c ${mb * 1024 * 1024}"\nlog_max_size = "1GB"\n`)
  const state = dir(`logs-${i}/state`)
  const daemon = await serve(config, state)
  await fetch(`${daemon.url}/api/tasks/chatty/run`, {method: 'POST', headers: {authorization: `Bearer ${daemon.token}`}})
  let run
  for (;;) {
    run = endedRuns(state, 'chatty')[0]
    if (run) break
    await sleep(50)
  }
  await daemon.stop()
  return round(mb / (run.duration_ms / 1000), 1)
}

async function idleRss(tasks) {
  const config = join(dir(`rss-${tasks}`), 'sched.toml')
  let toml = ''
  for (let i = 0; i < tasks; i++) toml += `[tasks.t${i}]\nrun = "echo ${i}"\ncron = "${i % 60} ${i % 24} * * *"\n\n`
  writeFileSync(config, toml)
  const daemon = await serve(config, dir(`rss-${tasks}/state`))
  // Idle means settled: V8 gives back the young generation grown while loading once the
  // process has been quiet for a few seconds.
  await sleep(20_000)
  const rss = rssMb(daemon.child.pid)
  await daemon.stop()
  return round(rss, 1)
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * A ULID for a past instant. sched's own ulid() is monotonic within a process — after seeding
 * one history, a second would get the first one's last time — so seeded ids are made here.
 */
function idAt(at, seq) {
  let time = ''
  for (let t = at, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time
  let rest = ''
  for (let n = seq, i = 0; i < 16; i++, n = Math.floor(n / 32)) rest = CROCKFORD[n % 32] + rest
  return time + rest
}

/** 100k finished runs over 10 tasks, written the way the daemon writes them. */
function seedRuns(state, total) {
  const tasks = 10
  const start = Date.now() - total * 1000
  for (let t = 0; t < tasks; t++) {
    mkdirSync(join(state, 'runs', `task-${t}`), {recursive: true})
    mkdirSync(join(state, 'logs', `task-${t}`), {recursive: true})
  }
  for (let i = 0; i < total; i++) {
    const task = `task-${i % tasks}`
    const at = start + i * 1000
    const id = idAt(at, i)
    const record = {
      v: 1, id, task_name: task, kind: 'task', status: 'ended', end_reason: i % 10 === 0 ? 'failed' : 'success',
      exit_code: i % 10 === 0 ? 1 : 0, signal: null, triggered_by: 'cron', scheduled_at: new Date(at).toISOString(),
      created_at: new Date(at).toISOString(), started_at: new Date(at).toISOString(), ended_at: new Date(at + 20).toISOString(),
      duration_ms: 20, retry_attempt: 0, retry_of_run_id: null, instance_index: null, params: {}, pid: 1000 + (i % 30000), log_bytes: 12, message: null,
    }
    const path = join(state, 'runs', task, runRelativePath(record))
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(path, JSON.stringify(record))
  }
  let toml = ''
  for (let t = 0; t < tasks; t++) toml += `[tasks.task-${t}]\nrun = "true"\ncron = "0 3 * * *"\n\n`
  // Write the seeded files back now, so their writeback does not land inside a measurement.
  spawnSync('sync')
  return toml
}

async function history() {
  const base = dir('history')
  const state = dir('history/state')
  const config = join(base, 'sched.toml')
  writeFileSync(config, seedRuns(state, 100_000))
  const boots = []
  for (let i = 0; i < 3; i++) {
    const daemon = await serve(config, state)
    boots.push(daemon.bootMs)
    await daemon.stop()
  }
  const queries = []
  for (let i = 0; i < 7; i++) {
    const t = performance.now()
    const r = spawnSync(process.execPath, [BIN, 'runs', '--limit', '20', '-c', config, '--state-dir', state], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(r.stderr)
    queries.push(performance.now() - t)
  }
  return {boot_s_100k_runs: round(median(boots) / 1000, 3), runs_query_ms_100k_runs: round(median(queries), 1)}
}

/** Config with `n` daily cron tasks, for the listing figures of the foundation issue. */
function manyTasks(n) {
  let toml = '[scheduler]\ntimezone = "Europe/Bratislava"\n\n'
  for (let i = 0; i < n; i++) toml += `[tasks.task-${i}]\nrun = "echo ${i}"\ncron = "${i % 60} ${i % 24} * * *"\ndescription = "task ${i}"\ntimeout = "5m"\n\n`
  return toml
}

/**
 * `sched list --json` of 1000 units beside `sched --version` (the CLI's floor) in the same run:
 * with no daemon (the file is parsed and validated), and with one serving (its compiled copy
 * answers); then GET /api/tasks.
 */
async function listing() {
  const base = dir('listing')
  const config = join(base, 'sched.toml')
  writeFileSync(config, manyTasks(1000))
  const state = dir('listing/state')
  const timed = (args) => {
    const t = performance.now()
    const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 64 << 20})
    if (r.status !== 0) throw new Error(r.stderr)
    return performance.now() - t
  }
  const list = ['list', '--json', '-c', config, '--state-dir', state]
  const cold = []
  for (let i = 0; i < 9; i++) cold.push(timed(list))
  const daemon = await serve(config, state)
  const lists = []
  const versions = []
  for (let i = 0; i < 9; i++) {
    lists.push(timed(list))
    versions.push(timed(['--version']))
  }
  const gets = []
  for (let i = 0; i < 60; i++) {
    const t = performance.now()
    const res = await fetch(`${daemon.url}/api/tasks`, {headers: {authorization: `Bearer ${daemon.token}`}})
    await res.arrayBuffer()
    if (i >= 10) gets.push(performance.now() - t)
  }
  await daemon.stop()
  return {
    version_ms: round(median(versions), 1),
    list_json_ms_1000_units: round(median(lists), 1),
    list_json_to_version_ratio: round(median(lists) / median(versions)),
    list_json_ms_1000_units_no_daemon: round(median(cold), 1),
    api_tasks_ms_1000_units: round(median(gets), 2),
  }
}

async function control() {
  const base = dir('control')
  const config = join(base, 'sched.toml')
  writeFileSync(
    config,
    [
      '[tasks.t]\nrun = "true"\n',
      // A line every 50 ms carrying the time it was written.
      '[tasks.ticker]\nrun = \'for i in $(seq 1 60); do echo "$(date +%s%3N)"; sleep 0.05; done\'\n',
      // Chatty: 2000 lines a second for 10 s.
      '[tasks.chatty]\nrun = \'for s in $(seq 1 200); do seq 1 100 | sed "s/^/a chatty line of output number /"; sleep 0.05; done\'\n',
    ].join('\n'),
  )
  const state = dir('control/state')
  const daemon = await serve(config, state)
  const auth = {authorization: `Bearer ${daemon.token}`}

  // sched trigger → process started: from the request file the CLI writes (written here the
  // same way, so node's own start-up is not counted) to the run's process being spawned.
  const layout = new StateLayout(state)
  const pickup = []
  for (let i = 0; i < 20; i++) {
    const t = Date.now()
    const id = writeRequest(layout, {type: 'trigger', unit: 't', params: {}})
    const answer = await awaitResponse(layout, id, 10_000)
    const run = answer.answer.run
    pickup.push(Date.parse(run.started_at) - t)
    await sleep(100)
  }
  const cliWall = []
  for (let i = 0; i < 7; i++) {
    const t = performance.now()
    const r = spawnSync(process.execPath, [BIN, 'trigger', 't', '-c', config, '--state-dir', state], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(r.stderr)
    cliWall.push(performance.now() - t)
  }

  // sched logs -f: when each line is printed versus when the process wrote it.
  const started = await (await fetch(`${daemon.url}/api/tasks/ticker/run`, {method: 'POST', headers: auth})).json()
  const follower = spawn(process.execPath, [BIN, 'logs', started.id, '-f', '-c', config, '--state-dir', state], {stdio: ['ignore', 'pipe', 'ignore']})
  const delays = []
  let pending = ''
  follower.stdout.on('data', (d) => {
    const now = Date.now()
    pending += d
    const lines = pending.split('\n')
    pending = lines.pop()
    for (const line of lines) if (/^\d{13}$/.test(line)) delays.push(now - Number(line))
  })
  await new Promise((resolve) => follower.on('exit', resolve))

  // 50 SSE followers of a chatty run: the daemon's CPU while they stream.
  const cpuBefore = cpuSeconds(daemon.child.pid)
  const wallBefore = performance.now()
  const chatty = await (await fetch(`${daemon.url}/api/tasks/chatty/run`, {method: 'POST', headers: auth})).json()
  let dropped = 0
  const followers = Array.from({length: 50}, async () => {
    try {
      const res = await fetch(`${daemon.url}/api/runs/${chatty.id}/log/stream`, {headers: auth})
      for await (const _ of res.body) {
        // drain
      }
    } catch {
      dropped++
    }
  })
  await Promise.all(followers)
  const cores = (cpuSeconds(daemon.child.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000)
  await daemon.stop()
  return {
    trigger_to_start_ms_median: round(median(pickup), 1),
    trigger_cli_wall_ms_median: round(median(cliWall), 1),
    logs_follow_delay_ms_median: round(median(delays.slice(5)), 1),
    logs_follow_delay_ms_p99: round(percentile(delays.slice(5), 99), 1),
    sse_50_followers_daemon_cores: round(cores, 2),
    sse_50_followers_dropped: dropped,
  }
}

/** user + system CPU seconds of a process so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function runsApi() {
  const base = dir('runs-api')
  const state = dir('runs-api/state')
  const config = join(base, 'sched.toml')
  writeFileSync(config, seedRuns(state, 100_000))
  const daemon = await serve(config, state)
  const times = []
  for (let i = 0; i < 60; i++) {
    const t = performance.now()
    const res = await fetch(`${daemon.url}/api/runs?limit=50`, {headers: {authorization: `Bearer ${daemon.token}`}})
    await res.arrayBuffer()
    if (i >= 10) times.push(performance.now() - t)
  }
  await daemon.stop()
  return {api_runs_limit50_ms_100k_runs: round(median(times), 2)}
}

async function servicesIdle() {
  const base = dir('services')
  const config = join(base, 'sched.toml')
  let toml = ''
  for (let i = 0; i < 20; i++) toml += `[services.svc-${i}]\nrun = "exec sleep 100000"\ninstances = 2\nhealthy_after = "1s"\n\n`
  writeFileSync(config, toml)
  const daemon = await serve(config, dir('services/state'))
  await sleep(5000)
  const before = cpuSeconds(daemon.child.pid)
  await sleep(60_000)
  const percent = ((cpuSeconds(daemon.child.pid) - before) / 60) * 100
  await daemon.stop()
  return {idle_cpu_percent_20_services_x2: round(percent, 2)}
}

/**
 * Issue 8's load: 1,000 tasks firing every second for 60 s (on_overlap = "skip": a tick whose
 * previous run still goes is recorded skipped). Every tick of the window must have exactly one
 * record; the figures are how late the daemon acted on the ticks (record created), how late the
 * processes really started (they write their own start time), and the daemon's peak RSS. Then
 * 200 `sched trigger` processes at once: the time until all are answered.
 */
async function load() {
  const {tickCensus} = await import('../test/support/tick-census.ts')
  const base = dir('load')
  const ran = join(base, 'ran')
  const names = Array.from({length: 1000}, (_, i) => `sec-${i}`)
  const config = join(base, 'sched.toml')
  writeFileSync(config, names.map((n) => `[tasks.${n}]\ncron = "* * * * * *"\non_overlap = "skip"\nrun = 'echo "$SCHED_RUN_ID $(date +%s%3N)" >> ${ran}'\n`).join('\n'))
  const state = dir('load/state')
  const daemon = await serve(config, state)
  const from = Date.now() + 1000
  let peak = 0
  while (Date.now() < from + 60_000) {
    peak = Math.max(peak, rssMb(daemon.child.pid))
    await sleep(500)
  }
  const to = Date.now() - 1000
  await daemon.stop()
  const triggers = await concurrentTriggers(200)
  const store = runStore(state)
  const records = store.listAll().map((e) => store.readSync(e)).filter(Boolean)
  const census = tickCensus(records, names, from, to)
  const startedAt = new Map(readFileSync(ran, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')))
  const late = records.filter((r) => startedAt.has(r.id) && r.scheduled_at).map((r) => Number(startedAt.get(r.id)) - Date.parse(r.scheduled_at))
  return {
    load_1000_per_second_ticks: census.expected,
    load_1000_per_second_ticks_lost: census.lost.length,
    load_1000_per_second_ticks_twice: census.twice.length,
    load_1000_per_second_runs_started: census.outcomes.success ?? 0,
    load_1000_per_second_ticks_skipped: census.outcomes.skipped ?? 0,
    load_1000_per_second_tick_to_record_p50_ms: census.decided.p50,
    load_1000_per_second_tick_to_record_p99_ms: census.decided.p99,
    load_1000_per_second_tick_to_process_p50_ms: round(median(late)),
    load_1000_per_second_tick_to_process_p99_ms: round(percentile(late, 99)),
    load_1000_per_second_peak_rss_mb: round(peak, 1),
    ...triggers,
  }
}

/** `n` `sched trigger` processes started at once against an otherwise idle daemon. */
async function concurrentTriggers(n) {
  const config = join(dir('triggers'), 'sched.toml')
  writeFileSync(config, '[tasks.work]\nmax_concurrent = 4\nqueue_max = 1000\nrun = "true"\n')
  const state = dir('triggers/state')
  const daemon = await serve(config, state)
  const started = performance.now()
  const codes = await Promise.all(
    Array.from({length: n}, () => new Promise((resolve) => spawn(process.execPath, [BIN, 'trigger', 'work', '-c', config, '--state-dir', state], {stdio: 'ignore'}).on('exit', resolve))),
  )
  const seconds = (performance.now() - started) / 1000
  await daemon.stop()
  return {[`load_${n}_concurrent_triggers_answered`]: codes.filter((code) => code === 0).length, [`load_${n}_concurrent_triggers_seconds`]: round(seconds, 1)}
}

const suites = {
  listing,
  control,
  runs_api: runsApi,
  services: servicesIdle,
  lateness: cronLateness,
  notify: notifyStorm,
  throughput,
  logs: logCapture,
  rss: async () => ({idle_rss_mb_10_tasks: await idleRss(10), idle_rss_mb_1000_tasks: await idleRss(1000)}),
  history,
  dashboard,
  load,
}

/**
 * The dashboard in Debian's Chromium: the overview of 1000 units with 20 runs each (first
 * meaningful paint: the first screen of rows with their strips; a jump across the list; an
 * event's update reaching its row), a finished 50,000-line log shown, and the bundle's size.
 */
async function dashboard() {
  const {chromium} = await import('playwright-core')
  const {gzipSync, brotliCompressSync} = await import('node:zlib')
  const assets = join(ROOT, 'dist', 'web', 'assets')
  const files = readdirSync(assets).filter((f) => /\.(js|css)$/.test(f)).map((f) => readFileSync(join(assets, f)))
  const kb = (n) => round(n / 1024, 1)
  const sizes = {
    dashboard_js_css_kb: kb(files.reduce((n, b) => n + b.length, 0)),
    dashboard_js_css_gzip_kb: kb(files.reduce((n, b) => n + gzipSync(b, {level: 9}).length, 0)),
    dashboard_js_css_brotli_kb: kb(files.reduce((n, b) => n + brotliCompressSync(b).length, 0)),
  }

  const base = dir('dashboard')
  const state = dir('dashboard/state')
  const units = 1000
  const perUnit = 20
  let toml = manyTasks(units).replace(/\[tasks\.task-(\d+)\]\n/g, (m, i) => `${m}group = "group-${i % 12}"\n`)
  toml += `[tasks.big-log]\nrun = "seq -f 'line %g of a long log' 1 50000"\n`
  writeFileSync(join(base, 'sched.toml'), toml)
  const start = Date.now() - units * perUnit * 1000
  for (let i = 0; i < units * perUnit; i++) {
    const task = `task-${i % units}`
    const at = start + i * 1000
    const failed = i % 7 === 0
    const record = {
      v: 1, id: idAt(at, i), task_name: task, kind: 'task', status: 'ended', end_reason: failed ? 'failed' : 'success', exit_code: failed ? 1 : 0, signal: null,
      triggered_by: 'cron', scheduled_at: new Date(at).toISOString(), created_at: new Date(at).toISOString(), started_at: new Date(at).toISOString(),
      ended_at: new Date(at + 20).toISOString(), duration_ms: 20 + (i % 50), retry_attempt: 0, retry_of_run_id: null, instance_index: null, params: {}, pid: 1000, log_bytes: 0, message: null,
    }
    const path = join(state, 'runs', task, runRelativePath(record))
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(path, JSON.stringify(record))
  }
  spawnSync('sync')
  const daemon = await serve(join(base, 'sched.toml'), state)
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']})
  try {
    const context = await browser.newContext({viewport: {width: 1280, height: 900}})
    await context.request.post(`${daemon.url}/api/session`, {data: {token: daemon.token}})
    const page = await context.newPage()
    const paints = []
    const contentful = []
    for (let i = 0; i < 5; i++) {
      await page.goto(`${daemon.url}/`)
      await page.waitForFunction(() => document.querySelectorAll('table.units tr.unit').length > 0 && document.querySelectorAll('.sq.ok').length > 0, null, {timeout: 60_000})
      paints.push(await page.evaluate(() => performance.now()))
      contentful.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN))
    }
    const rowsInDom = await page.locator('tr.unit').count()
    const scrolls = []
    for (const to of ['document.body.scrollHeight', '0', 'document.body.scrollHeight / 2']) {
      const t = performance.now()
      await page.evaluate(`window.scrollTo(0, ${to})`)
      await page.waitForFunction(() => [...document.querySelectorAll('tr.unit')].some((r) => {
        const b = r.getBoundingClientRect()
        return b.top >= 0 && b.bottom <= innerHeight
      }), null, {timeout: 30_000})
      scrolls.push(performance.now() - t)
    }
    // An event's update: a run triggered by API shows in the strip of the first row on screen.
    await page.evaluate('window.scrollTo(0, 0)')
    const first = await page.locator('tr.unit th a').first().textContent()
    const updates = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      const res = await fetch(`${daemon.url}/api/tasks/${first}/run`, {method: 'POST', headers: {authorization: `Bearer ${daemon.token}`}})
      const {id} = await res.json()
      await page.waitForSelector(`.sq[data-run="${id}"]`, {timeout: 30_000})
      updates.push(performance.now() - t)
    }
    const run = await (await fetch(`${daemon.url}/api/tasks/big-log/run?wait=true`, {method: 'POST', headers: {authorization: `Bearer ${daemon.token}`}})).json()
    const logs = []
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      await page.goto(`${daemon.url}/runs/${run.id}`)
      await page.waitForFunction(() => document.querySelector('.log .count')?.textContent === '50,000 lines', null, {timeout: 60_000})
      logs.push(performance.now() - t)
    }
    const rows = await page.locator('.line').count()
    return {
      ...sizes,
      overview_1000_units_first_contentful_paint_ms: round(median(contentful), 0),
      overview_1000_units_first_rows_ms: round(median(paints), 0),
      overview_1000_units_rows_in_dom: rowsInDom,
      overview_1000_units_scroll_ms: round(median(scrolls), 0),
      overview_event_to_row_ms: round(median(updates), 0),
      log_50k_lines_shown_ms: round(median(logs), 0),
      log_50k_lines_rows_in_dom: rows,
    }
  } finally {
    await browser.close()
    await daemon.stop()
  }
}

const chosen = process.argv.slice(2)
// Said before the first suite, not after minutes of the others.
if ((!chosen.length || chosen.includes('dashboard')) && !existsSync('/usr/bin/chromium')) {
  console.error('bench: the dashboard suite drives Debian\'s Chromium at /usr/bin/chromium, which is missing: apt-get install chromium (as .ci/run does), or name the suites to run without it, e.g. npx tsx bench/run.js throughput logs')
  process.exit(2)
}
const result = {}
for (const [name, run] of Object.entries(suites)) {
  if (chosen.length && !chosen.includes(name)) continue
  Object.assign(result, await run())
}
console.log(JSON.stringify(result, null, 2))
