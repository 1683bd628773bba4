import {writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {type Daemon, runCli, startDaemon, tempDir} from '../support/cli.js'
import {describePg, freshDatabase} from '../support/postgres.js'
import {q, until, unwrap} from '../support/sandbox.js'
import {clusterCleanup} from '../support/cluster-e2e.js'

/**
 * Issue 12, "a run's log from any node": three real `sched serve` nodes on one fresh database.
 * n1 and n2 advertise their API (SCHED_CLUSTER_ADVERTISE, one file for all), n3 does not. A run
 * on n1 is read on n2 — page, raw and a live SSE stream, forwarded to n1 — and with `sched logs`
 * from n2's shell; n3's runs answer a 503 saying what to set; a killed n1 answers 503 naming it.
 */

const TOKEN = 'cluster-logs-token-0123456789'

const {dirs, daemons} = clusterCleanup()

/** A port free now: the node must know it before it listens, to advertise it when it joins. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

interface Cluster {
  readonly toml: string
  readonly nodes: Map<string, Daemon>
  readonly stateDir: (name: string) => string
  /** `sched` run as this node's shell would. */
  cli(name: string, args: readonly string[]): ReturnType<typeof runCli>
}

async function cluster(): Promise<Cluster> {
  const url = await freshDatabase()
  const dir = tempDir('sched-cluster-logs-')
  dirs.push(dir)
  const toml = join(dir.path, 'sched.toml')
  // talk's stdout and stderr are two pipes: what both already hold when the spawner starts
  // reading (on a busy machine) is stored stream by stream. Its pause keeps the stderr line
  // ahead of the last lines, which the test reads back.
  writeFileSync(
    toml,
    `[cluster]
url = ${q(url)}
lease = "2s"

[tasks.talk]
run = ${q('echo "out from $SCHED_NODE"; echo "err from $SCHED_NODE" >&2; sleep 1; for i in $(seq 1 300); do echo "line $i"; done')}

[tasks.slow]
run = ${q('echo first; sleep 2; echo second')}
`,
  )
  const stateDir = (name: string) => join(dir.path, `state-${name}`)
  const nodes = new Map<string, Daemon>()
  for (const name of ['n1', 'n2', 'n3']) {
    const port = await freePort()
    const advertise = name === 'n3' ? {} : {SCHED_CLUSTER_ADVERTISE: `http://127.0.0.1:${port}`}
    const d = await startDaemon(toml, stateDir(name), ['--port', String(port)], {SCHED_CLUSTER_NODE: name, SCHED_API_TOKEN: TOKEN, ...advertise})
    daemons.add(d)
    nodes.set(name, d)
  }
  return {toml, nodes, stateDir, cli: (name, args) => runCli([...args, '-c', toml, '--state-dir', stateDir(name)], {env: {SCHED_CLUSTER_NODE: name, SCHED_API_TOKEN: TOKEN}})}
}

const auth = {authorization: `Bearer ${TOKEN}`}

async function trigger(d: Daemon, task: string): Promise<string> {
  const res = await fetch(`${d.url}/api/tasks/${task}/run`, {method: 'POST', headers: {...auth, 'content-type': 'application/json'}, body: '{}'})
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as {id: string}).id
}

async function record(d: Daemon, id: string): Promise<{status: string; node: string; end_reason: string | null}> {
  return (await (await fetch(`${d.url}/api/runs/${id}`, {headers: auth})).json()) as {status: string; node: string; end_reason: string | null}
}

/** Reads an SSE response until `done`, noting what the run's record said when each event came. */
async function readEvents(res: Response, onEvent: (event: string, data: string) => Promise<void> | void): Promise<void> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    text += decoder.decode(chunk.value, {stream: true})
    for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
      const block = text.slice(0, end)
      text = text.slice(end + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event && data !== undefined) await onEvent(event, data)
    }
  }
}

describePg('a run\'s log from any node of a cluster', () => {
  it('page, raw and a live SSE stream of a run on n1, read on n2 and with sched logs from n2\'s shell; a node without advertise says what to set', async () => {
    const c = await cluster()
    const [n1, n2, n3] = ['n1', 'n2', 'n3'].map((n) => c.nodes.get(n)!)
    const talk = await trigger(n1, 'talk')
    await until(async () => (await record(n2, talk)).status === 'ended', 15_000, 'the run on n1 to end')
    expect(await record(n2, talk)).toMatchObject({node: 'n1', end_reason: 'success'})

    // The page (JSON), with its from/limit semantics kept.
    const res = await fetch(`${n2.url}/api/runs/${talk}/log?from=-2&limit=5`, {headers: auth})
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const page = (await res.json()) as {lines: {n: number; text: string}[]; total_lines: number; finalized: boolean}
    expect(page.total_lines).toBeGreaterThanOrEqual(302)
    expect(page.lines.map((l) => l.text)).toEqual(['line 299', 'line 300'])
    expect(page.finalized).toBe(true)

    // The raw text.
    const raw = await fetch(`${n2.url}/api/runs/${talk}/log/raw`, {headers: auth})
    expect(raw.status).toBe(200)
    expect(raw.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    const text = await raw.text()
    expect(text).toContain('out from n1\n')
    expect(text).toContain('err from n1\n')
    expect(text).toContain('line 300\n')

    // SSE of a running run, forwarded as it comes: the first line arrives while the run still runs.
    const slow = await trigger(n1, 'slow')
    await until(async () => (await record(n2, slow)).status === 'running', 10_000, 'slow to start on n1')
    const stream = await fetch(`${n2.url}/api/runs/${slow}/log/stream`, {headers: auth})
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    const seen: {event: string; text?: string; status: string}[] = []
    await readEvents(stream, async (event, data) => {
      const line = event === 'line' ? (JSON.parse(data) as {text: string}).text : undefined
      seen.push({event, ...(line === undefined ? {} : {text: line}), status: (await record(n2, slow)).status})
    })
    expect(seen.map((e) => e.text ?? e.event)).toEqual(['first', 'second', 'done'])
    expect(seen[0].status, 'the first line came through before the run ended: not buffered').toBe('running')

    // A node that forwards marks the request: n1 asked "as a proxy" answers from its own disk, and
    // n2 asked so has no file — an empty page, never a request forwarded again.
    const local = (await (await fetch(`${n2.url}/api/runs/${talk}/log`, {headers: {...auth, 'x-sched-proxied-by': 'n9'}})).json()) as {total_lines: number}
    expect(local.total_lines).toBe(0)

    // sched logs from n2's shell: by run id, by task (the newest run, wherever it ran), -n and -f.
    const byId = await c.cli('n2', ['logs', talk, '-n', '3'])
    expect(byId.code, byId.stderr).toBe(0)
    expect(byId.stdout).toBe('line 298\nline 299\nline 300\n')
    const byTask = await c.cli('n2', ['logs', 'talk'])
    expect(byTask.code, byTask.stderr).toBe(0)
    expect(byTask.stdout.split('\n')).toHaveLength(302)
    expect(byTask.stdout.startsWith('out from n1\nline 1\n')).toBe(true)
    expect(byTask.stderr).toContain('err from n1')
    const slow2 = await trigger(n1, 'slow')
    const followed = await c.cli('n2', ['logs', 'slow', '-f', '--json'])
    expect(followed.code, followed.stderr).toBe(0)
    expect(followed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {text: string}).text)).toEqual(['first', 'second'])
    expect((await record(n2, slow2)).status).toBe('ended')

    // A run of n3, which has no advertise: 503 saying what to set.
    const onN3 = await trigger(n3, 'talk')
    await until(async () => (await record(n2, onN3)).status === 'ended', 15_000, 'the run on n3 to end')
    const refused = await fetch(`${n2.url}/api/runs/${onN3}/log`, {headers: auth})
    expect(refused.status).toBe(503)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await refused.json()) as {detail: string; node: string}
    expect(problem.node).toBe('n3')
    expect(problem.detail).toContain('node "n3"')
    expect(problem.detail).toContain('has no [cluster] advertise')
    expect(problem.detail).toContain('SCHED_CLUSTER_ADVERTISE')
    const cliRefused = await c.cli('n2', ['logs', onN3])
    expect(cliRefused.code).toBe(1)
    expect(unwrap(cliRefused.stderr)).toContain('has no [cluster] advertise')
  }, 90_000)

  it('a killed owner answers 503 naming it (unreachable, then down once its lease expired); sched logs with no daemon here reads this disk, and exits 4 for another node\'s log', async () => {
    const c = await cluster()
    const [n1, n2] = ['n1', 'n2'].map((n) => c.nodes.get(n)!)
    // One at a time (max_concurrent = 1): a queued run could start on any node.
    const talk = await trigger(n1, 'talk')
    await until(async () => (await record(n2, talk)).status === 'ended', 15_000, 'the run on n1 to end')
    const onN2 = await trigger(n2, 'talk')
    await until(async () => (await record(n2, onN2)).status === 'ended', 15_000, 'the run on n2 to end')
    expect(await record(n2, onN2)).toMatchObject({node: 'n2', end_reason: 'success'})
    expect((await fetch(`${n2.url}/api/runs/${talk}/log/raw`, {headers: auth})).status).toBe(200)

    await n1.stop('SIGKILL')
    daemons.delete(n1)
    for (const path of ['log', 'log/raw', 'log/stream']) {
      const res = await fetch(`${n2.url}/api/runs/${talk}/${path}`, {headers: auth})
      expect(res.status, path).toBe(503)
      const body = (await res.json()) as {detail: string; node: string}
      expect(body.node).toBe('n1')
      expect(body.detail).toMatch(/on node "n1", which ran it, and that node (did not answer at http:\/\/127\.0\.0\.1:\d+|is down)/)
    }
    // Once its lease (2 s) has expired it is known to be down, without trying to connect.
    const down = await until(
      async () => {
        const body = (await (await fetch(`${n2.url}/api/runs/${talk}/log`, {headers: auth})).json()) as {detail: string}
        return body.detail.includes('is down') && body.detail
      },
      15_000,
      'n1 to be down in sched.nodes',
    )
    expect(down).toContain('the log of run')
    const cli = await c.cli('n2', ['logs', talk])
    expect(cli.code).toBe(1)
    expect(unwrap(cli.stderr)).toContain('that node is down')

    // n1's shell with no daemon there: its own run's log is on its disk and needs none; another
    // node's needs this node's daemon: exit 4, saying why.
    const own = await c.cli('n1', ['logs', talk, '-n', '1'])
    expect(own.code, own.stderr).toBe(0)
    expect(own.stdout).toBe('line 300\n')
    const alone = await c.cli('n1', ['logs', onN2])
    expect(alone.code).toBe(4)
    expect(unwrap(alone.stderr)).toContain("a log on another node is read through this node's daemon")
  }, 90_000)
})
