// The failover time of a service instance with real nodes (used by bench/cluster.js): two
// `sched serve` nodes on one database run `[services.web]` (one instance, writing a beat every
// 50 ms); the node that runs it is killed with SIGKILL and started again, `kills` times. Failover
// is the time from the kill to the first beat of the instance on the other node: the lease's
// expiry, the other node's next round (at most a second), and the start of the process.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function startNode(toml, dir, name) {
  const child = spawn(process.execPath, [BIN, 'serve', '-c', toml, '--state-dir', join(dir, `state-${name}`), '--port', '0'], {
    env: {...process.env, SCHED_CLUSTER_NODE: name, SCHED_API_TOKEN: 'bench-failover-token-0123456789'},
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d
      if (err.includes('sched serving')) resolve(child)
    })
    child.on('exit', (code) => reject(new Error(`node ${name} exited ${code}:\n${err}`)))
  })
}

function lastBeats(file) {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const [node, ns] = l.split(' ')
    return {node, at: Number(BigInt(ns) / 1_000_000n)}
  })
}

async function waitFor(check, timeoutMs) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out')
    await sleep(20)
  }
}

/** Failover times (ms) of `kills` kills with `[cluster] lease = leaseS`. */
export async function measureFailover(url, {leaseS, kills}) {
  const dir = mkdtempSync(join(tmpdir(), 'sched-bench-failover-'))
  const beats = join(dir, 'beats.log')
  const toml = join(dir, 'sched.toml')
  writeFileSync(toml, `[cluster]\nurl = "${url}"\nlease = "${leaseS}s"\n\n[services.web]\nhealthy_after = "0s"\nrun = 'while :; do echo "$SCHED_NODE $(date +%s%N)" >> ${beats}; sleep 0.05; done'\n`)
  const nodes = new Map()
  try {
    for (const name of ['a', 'b']) nodes.set(name, await startNode(toml, dir, name))
    const times = []
    for (let k = 0; k < kills; k++) {
      const holder = await waitFor(() => lastBeats(beats).filter((b) => b.at > Date.now() - 300).at(-1)?.node, 30_000)
      const killedAt = Date.now()
      nodes.get(holder).kill('SIGKILL')
      const other = holder === 'a' ? 'b' : 'a'
      const first = await waitFor(() => lastBeats(beats).find((b) => b.node === other && b.at > killedAt), leaseS * 1000 + 30_000)
      times.push(first.at - killedAt)
      nodes.set(holder, await startNode(toml, dir, holder))
      await sleep(1000)
    }
    return times
  } finally {
    for (const child of nodes.values()) child.kill('SIGKILL')
    await sleep(300)
    rmSync(dir, {recursive: true, force: true})
  }
}
