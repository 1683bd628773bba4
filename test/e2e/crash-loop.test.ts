import {appendFileSync, existsSync, readFileSync, readdirSync} from 'node:fs'
import {describe, expect} from 'vitest'
import {RunStore} from '../../src/state/runs.js'
import type {Daemon} from '../support/cli.js'
import {type Sandbox, it, q, sleep, until} from '../support/sandbox.js'
import {seeded} from '../support/seeded.js'

/**
 * Issue 8, "Prove it": the daemon killed with SIGKILL at random moments — while per-second cron
 * ticks spawn runs, queued triggers wait and start, logs are written, a reload is under way —
 * and booted again each time. After every boot: every trigger the CLI saw accepted has its
 * record, every state file reads back whole, no run executed twice, no cron tick started twice.
 * After the last stop nothing is left running. SCHED_SOAK=1 (set by .ci/run) makes it 20 kills;
 * the normal run does 3.
 */

const KILLS = process.env.SCHED_SOAK === '1' ? 20 : 3

const config = (b: Sandbox) => {
  const log = q(b.path('executed'))
  return `[tasks.tick]
cron = "* * * * * *"
run = ${q(`echo "$SCHED_RUN_ID" >> ${log}; seq 1 200`)}
[tasks.work]
run = ${q(`echo "$SCHED_RUN_ID" >> ${log}; seq 1 2000; sleep 0.2`)}
on_overlap = "queue"
queue_max = 1000
`
}

function checkState(b: Sandbox, accepted: ReadonlySet<string>): void {
  const store = new RunStore(b.layout)
  const records = store.listAll().map((e) => ({entry: e, record: store.readSync(e)}))
  // Every state file reads back whole: nothing set aside, nothing rebuilt.
  expect(existsSync(b.layout.corruptDir) ? readdirSync(b.layout.corruptDir) : []).toEqual([])
  for (const {entry, record} of records) expect(record, entry.file).toMatchObject({id: entry.id, task_name: entry.unit})
  expect(records.filter((r) => r.record?.damaged)).toEqual([])
  const ids = new Set(records.map((r) => r.entry.id))
  for (const id of accepted) expect(ids.has(id), `accepted run ${id} has a record`).toBe(true)
  // No run executed twice.
  const executed = existsSync(b.path('executed')) ? readFileSync(b.path('executed'), 'utf8').split('\n').filter(Boolean) : []
  expect(executed.length).toBe(new Set(executed).size)
  // No cron tick started twice, by cron or by a boot's catch-up.
  const started = records.map((r) => r.record!).filter((r) => r.task_name === 'tick' && r.started_at !== null && r.scheduled_at !== null)
  const byTick = new Map<string, string[]>()
  for (const r of started) byTick.set(r.scheduled_at!, [...(byTick.get(r.scheduled_at!) ?? []), r.triggered_by])
  for (const [tick, sources] of byTick) expect(sources, `tick ${tick} started by ${sources.join(' and ')}`).toHaveLength(1)
}

/** Starts the daemon, waiting while a foreground `sched trigger` holds the state directory (exit 5). */
async function startWhenFree(b: Sandbox): Promise<Daemon> {
  for (let tries = 0; ; tries++) {
    try {
      return await b.start()
    } catch (error) {
      if (!/exited with 5/.test(String(error)) || tries > 100) throw error
      await sleep(200)
    }
  }
}

describe('the daemon killed with SIGKILL again and again', () => {
  it(`loses no accepted trigger, runs nothing twice and leaves nothing running (${KILLS} kills)`, async ({box}) => {
    const seed = Number(process.env.SCHED_SOAK_SEED ?? Date.now() % 100_000)
    console.log(`crash loop: ${KILLS} kills, SCHED_SOAK_SEED=${seed}`)
    const rnd = seeded(seed)
    const b = box.with(config)
    const accepted = new Set<string>()
    const pending: Promise<void>[] = []
    for (let i = 0; i < KILLS; i++) {
      const daemon = await startWhenFree(b)
      checkState(b, accepted)
      for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
        pending.push(
          b.cli(['trigger', 'work']).then((res) => {
            // Between a kill and the next boot a trigger runs in the foreground ("run X ended").
            const m = /(?:(?:started|queued) run (\S+) of |^run (\S+) ended)/m.exec(`${res.stdout}\n${res.stderr}`)
            if (m) accepted.add(m[1] ?? m[2])
            // Refused or unanswered (the daemon died first): a clear error, never a hang.
            else expect(res.stderr).toMatch(/Error: /)
          }),
        )
      }
      if (rnd() < 0.3) {
        // A reload under way when the kill comes.
        appendFileSync(b.config, `\n# reload ${i}\n`)
        daemon.child.kill('SIGHUP')
      }
      await sleep(200 + rnd() * 1300)
      await b.stop('SIGKILL')
    }
    // A CLI that was waiting when its daemon died is answered by the next one or ends with an
    // error after its deadline; what it saw accepted must have a record.
    await Promise.all(pending)
    await startWhenFree(b)
    checkState(b, accepted)
    // Queued work resumes and finishes; then a clean stop leaves nothing behind (dispose checks).
    await until(() => b.runs('work').every((r) => r.status === 'ended'), 60_000, 'the queued work to finish')
    expect(await b.stop()).toBe(0)
    const final = b.runs()
    expect(final.filter((r) => r.status !== 'ended' && r.status !== 'pending')).toEqual([])
    checkState(b, accepted)
  }, 600_000)
})
