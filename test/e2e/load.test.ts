import {existsSync, readFileSync} from 'node:fs'
import {describe, expect} from 'vitest'
import {tickCensus} from '../support/tick-census.js'
import {type Sandbox, it, q, sleep, until} from '../support/sandbox.js'

/**
 * Issue 8, "Prove it" — load. Per-second cron tasks by the thousand (SCHED_SOAK=1, set by
 * .ci/run: 1,000 tasks for 60 s; otherwise 200 for 10 s): every tick of the window has exactly
 * one record — a run, or `skipped` when the task's previous run is still going — none twice, and
 * every run that says it succeeded ran once. And many `sched trigger` processes at once (200
 * with SCHED_SOAK, else 40): each is answered, and each accepted run executes exactly once.
 * The figures (lateness, RSS) are printed; `npm run bench` measures them too (suite `load`).
 */

const SOAK = process.env.SCHED_SOAK === '1'
const TASKS = SOAK ? 1000 : 200
const SECONDS = SOAK ? 60 : 10
const TRIGGERS = SOAK ? 200 : 40

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** `<run id> <ms since epoch>` lines the runs wrote: when each process really ran. */
function ranAt(b: Sandbox): Map<string, number[]> {
  const ran = new Map<string, number[]>()
  if (!existsSync(b.path('ran'))) return ran
  for (const line of readFileSync(b.path('ran'), 'utf8').split('\n')) {
    const [id, at] = line.split(' ')
    if (id && at) ran.set(id, [...(ran.get(id) ?? []), Number(at)])
  }
  return ran
}

describe.runIf(process.platform === 'linux')('load', () => {
  it(`${TASKS} tasks firing every second for ${SECONDS} s: no tick lost, none twice`, async ({box}) => {
    const names = Array.from({length: TASKS}, (_, i) => `sec-${i}`)
    const b = box.with((s) => names.map((n) => `[tasks.${n}]\ncron = "* * * * * *"\non_overlap = "skip"\nrun = ${q(`echo "$SCHED_RUN_ID $(date +%s%3N)" >> ${q(s.path('ran'))}`)}\n`).join('\n'))
    const daemon = await b.start()
    const from = Date.now() + 1000
    let peakKb = 0
    while (Date.now() < from + SECONDS * 1000) {
      peakKb = Math.max(peakKb, rssKb(daemon.child.pid!))
      await sleep(500)
    }
    const to = Date.now() - 1000
    expect(await b.stop()).toBe(0)

    const records = b.runs()
    const census = tickCensus(records, names, from, to)
    const ran = ranAt(b)
    const startLate: number[] = []
    for (const r of records) {
      const at = ran.get(r.id)
      if (at && r.scheduled_at) startLate.push(at[0] - Date.parse(r.scheduled_at))
    }
    startLate.sort((x, y) => x - y)
    console.log(
      `load: ${TASKS} per-second tasks for ${SECONDS} s, ${census.expected} ticks: ${JSON.stringify(census.outcomes)}; ` +
        `tick to record p50 ${census.decided.p50} ms, p99 ${census.decided.p99} ms, max ${census.decided.max} ms; ` +
        `tick to process start p50 ${startLate[Math.floor(startLate.length / 2)]} ms, p99 ${startLate[Math.floor(startLate.length * 0.99)]} ms (${startLate.length} runs); ` +
        `daemon peak RSS ${Math.round(peakKb / 1024)} MB`,
    )
    expect(census.expected).toBeGreaterThanOrEqual(TASKS * (SECONDS - 2))
    expect(census.lost).toEqual([])
    expect(census.twice).toEqual([])
    // Every run that says it ran, ran once; nothing ran that has no record.
    const ids = new Set(records.map((r) => r.id))
    for (const [id, at] of ran) {
      expect(ids.has(id), `process of run ${id} has a record`).toBe(true)
      expect(at, `run ${id} executed once`).toHaveLength(1)
    }
    for (const r of records.filter((r) => r.end_reason === 'success')) expect(ran.has(r.id), `run ${r.id} succeeded and ran`).toBe(true)
  }, 300_000)

  it(`${TRIGGERS} sched trigger processes at once: each answered, each run executed once`, async ({box}) => {
    const b = box.with((s) => `[tasks.work]\nmax_concurrent = 4\nqueue_max = 1000\nrun = ${q(`echo "$SCHED_RUN_ID $(date +%s%3N)" >> ${q(s.path('ran'))}`)}\n`)
    await b.start()
    const answers = await Promise.all(Array.from({length: TRIGGERS}, () => b.cli(['trigger', 'work'])))
    const ids: string[] = []
    for (const res of answers) {
      const m = /(?:started|queued) run (\S+) of work/.exec(res.stdout)
      expect(res.code, res.stderr).toBe(0)
      expect(m, res.stdout).not.toBeNull()
      ids.push(m![1])
    }
    expect(new Set(ids).size).toBe(TRIGGERS)
    await until(() => b.runs('work').length === TRIGGERS && b.runs('work').every((r) => r.status === 'ended'), 120_000, 'every run to end')
    const runs = b.runs('work')
    expect(runs.map((r) => r.id).sort()).toEqual([...ids].sort())
    expect(runs.filter((r) => r.end_reason !== 'success')).toEqual([])
    const ran = ranAt(b)
    for (const id of ids) expect(ran.get(id), `run ${id} executed once`).toHaveLength(1)
    expect(ran.size).toBe(TRIGGERS)
  }, 300_000)
})
