import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it as baseIt} from 'vitest'
import type {RunRecord} from '../../src/state/run-record.js'
import {BIN, runCli} from '../support/cli.js'
import {ISO, ULID, api, spawnCli} from '../support/control.js'
import {Sandbox, q, sleep, unwrap, until} from '../support/sandbox.js'

/**
 * Every command of SPEC §9 through the built CLI: against a running daemon (one per describe
 * block, units chosen so that tests do not step on each other) and, for the commands that must
 * work without one, with no daemon at all. Exit codes are SPEC §9's: 0 ok, 1 failure, 2 usage,
 * 3 unknown, 4 no daemon.
 */

const TASKS = `
[tasks.hello]
run = 'echo out-line; echo err-line >&2'

[tasks.ex]
run = 'echo to-out; echo to-err >&2; exit 7'

[tasks.sig]
run = 'kill -USR1 $$'

[tasks.slow]
run = 'echo begin; sleep 30'

# slow's twin for the stop tests, which stop every run of it: no other group's run is hit
[tasks.halt]
run = 'echo begin; sleep 30'

[tasks.follow]
run = 'echo one; sleep 0.4; echo two >&2; sleep 0.4; echo three'

[tasks.to]
run = 'echo before; echo oops >&2; sleep 30'
timeout = "300ms"

[tasks.p]
run = 'echo "args: $*"'
[[tasks.p.parameters]]
key = "--region"
kind = "option"
choices = ["eu", "us"]
required = true
[[tasks.p.parameters]]
key = "n"
kind = "arg"
type = "number"

[tasks.locked]
run = "true"
api_trigger = false

[tasks.sk]
run = "sleep 30"
on_overlap = "skip"

[tasks.qf]
run = "sleep 30"
queue_max = 1

[tasks.fresh]
run = "true"

[tasks.dst]
run = "true"
cron = "30 1,2 * * *"
timezone = "America/New_York"

[tasks.every]
run = "true"
cron = "@every 1h"
`

const SERVICES = `
[services.web]
run = "exec sleep 1000"
instances = 2
healthy_after = "0s"

[services.bad]
run = "exit 1"
restart_delay = "50ms"
start_retries = 0

# bad's twin for "start clears FATAL", so list and status always see bad FATAL
[services.flaky]
run = "exit 1"
restart_delay = "50ms"
start_retries = 0

[services.off]
run = "exec sleep 1000"
autostart = false

[services.echo]
run = 'echo "hi $SCHED_RUN_ID"; exec sleep 1000'
healthy_after = "0s"

[services.ctl]
run = "exec sleep 1000"
healthy_after = "0s"
`

const ESC = '\x1b['

const it = baseIt.sequential

/** The row of a table whose first cell is `name`, split on runs of 2+ spaces. */
function row(table: string, name: string): string[] | undefined {
  return table
    .split('\n')
    .map((l) => l.split(/ {2,}/))
    .find((cells) => cells[0] === name)
}

function header(table: string): string[] {
  return table.split('\n')[0].split(/ {2,}/)
}

/** Starts a run through the API (fast set-up for tests about something else); waits for its end unless told not to. */
async function apiRun(b: Sandbox, task: string, wait = true): Promise<string> {
  const res = await api(b, 'POST', `/api/tasks/${task}/run${wait ? '?wait=true' : ''}`)
  if (res.status !== 201) throw new Error(`POST /api/tasks/${task}/run: ${res.status} ${res.text}`)
  return res.body.id
}

/** The CLI with only the flags given (Sandbox.cli adds -c and --state-dir, which oclif refuses twice). */
function bare(args: readonly string[], env?: NodeJS.ProcessEnv) {
  return runCli(args, {env})
}

/** The one run of `task` created after `known` ids (waits for it). */
function newRun(b: Sandbox, task: string, known: ReadonlySet<string>, status?: RunRecord['status']): Promise<RunRecord> {
  return until(() => b.runs(task).find((r) => !known.has(r.id) && (status === undefined || r.status === status)), 20_000, `a new run of ${task}`)
}

/**
 * The four blocks below are independent (each has its own sandbox) and run side by
 * side; inside a block, tests run one after the other.
 */
describe('sched CLI', () => {
  describe.concurrent('with a daemon', () => {
    const b = new Sandbox()

    beforeAll(async () => {
      b.write(TASKS + SERVICES)
      await b.start()
      // Services come up after the API: wait until the books say so, as `list` reads them.
      const state = async (name: string) => (await api(b, 'GET', `/api/tasks/${name}`)).body.state.status
      await until(async () => (await state('web')) === 'running' && (await state('echo')) === 'running' && (await state('ctl')) === 'running' && (await state('bad')) === 'fatal', 10_000, 'services web, echo, ctl up and bad FATAL')
    })

    afterAll(async () => {
      await b.dispose()
    })

    describe.sequential('list', () => {
      it('prints a table with kind, schedule and zone, next run, last run and service state', async () => {
        const res = await b.cli(['list'])
        expect(res.code).toBe(0)
        expect(header(res.stdout)).toEqual(['NAME', 'KIND', 'SCHEDULE', 'NEXT RUN', 'LAST RUN', 'STATE'])
        const names = res.stdout.trim().split('\n').slice(1).map((l) => l.split(/ {2,}/)[0])
        expect(names).toEqual([...names].sort())
        expect(names).toHaveLength(20)
        expect(row(res.stdout, 'web')).toEqual(['web', 'service', '2 instances', '—', expect.stringMatching(/^running /), 'running 2/2'])
        expect(row(res.stdout, 'bad')).toEqual(['bad', 'service', '1 instance', '—', expect.stringMatching(/^start_failed /), 'FATAL'])
        expect(row(res.stdout, 'off')).toEqual(['off', 'service', '1 instance', '—', '—', 'stopped'])
        expect(row(res.stdout, 'fresh')).toEqual(['fresh', 'task', 'manual', '—', '—'])
        const dst = row(res.stdout, 'dst')!
        expect(dst.slice(0, 3)).toEqual(['dst', 'task', '30 1,2 * * * (America/New_York)'])
        expect(dst[3]).toMatch(/^\d{4}-\d\d-\d\d 0[123]:30:00 \(in [\dhms]+\)$/)
        // @every counts from the running daemon's start, so it has a next run now.
        expect(row(res.stdout, 'every')![3]).toMatch(/\(in (5\dm\d+s|1h)\)$/)
      })

      it('--json is exactly GET /api/tasks (answered from the daemon\'s compiled copy)', async () => {
        expect(existsSync(join(b.state, 'compiled.json'))).toBe(true)
        const [cli, http] = await Promise.all([b.cli(['list', '--json']), api(b, 'GET', '/api/tasks')])
        expect(cli.code).toBe(0)
        expect(http.status).toBe(200)
        expect(JSON.parse(cli.stdout)).toEqual(http.body)
        expect(cli.stdout).not.toContain('NAME')
      })
    })

    describe.sequential('status', () => {
      it('exits 0 and names the daemon, where the token is, the active runs and the units', async () => {
        // With SCHED_API_TOKEN set, the token comes from there; --json below shows the file otherwise.
        const res = await b.cli(['status'], {SCHED_API_TOKEN: 'xyz'})
        expect(res.code).toBe(0)
        expect(res.stdout).toMatch(new RegExp(`^daemon running: pid ${b.daemon!.child.pid}, up \\S+, ${b.daemon!.url.replace(/\./g, '\\.')}\n`))
        expect(res.stdout).toContain(`  config ${b.config} · state ${b.state} · version `)
        expect(res.stdout).toContain(' · token $SCHED_API_TOKEN\n')
        expect(res.stdout).not.toContain('xyz')
        expect(res.stdout).toContain('\nactive runs:\n')
        expect(res.stdout).toMatch(/\n\S+ +web#0 /)
        expect(res.stdout).toContain('\nunits:\n')
        expect(row(res.stdout.split('\nunits:\n')[1], 'bad')).toEqual(['bad', 'service', expect.stringMatching(/^start_failed /), 'FATAL'])
      })

      it('--json is {daemon, busy, active_runs, units}', async () => {
        const res = await b.cli(['status', '--json'], {SCHED_API_TOKEN: undefined})
        expect(res.code).toBe(0)
        const data = JSON.parse(res.stdout)
        expect(Object.keys(data)).toEqual(['daemon', 'busy', 'active_runs', 'units'])
        expect(data.daemon).toEqual({
          pid: b.daemon!.child.pid,
          started_at: expect.stringMatching(ISO),
          uptime_s: expect.any(Number),
          url: b.daemon!.url,
          config_path: b.config,
          state_dir: b.state,
          version: expect.stringMatching(/^\d+\.\d+\.\d+/),
          token: `${b.state}/api-token`,
        })
        expect(data.busy).toBeNull()
        const web = data.active_runs.filter((r: RunRecord) => r.task_name === 'web')
        expect(web.map((r: RunRecord) => r.instance_index).sort()).toEqual([0, 1])
        expect(web[0]).not.toHaveProperty('v')
        expect(data.units.map((u: {name: string}) => u.name)).toHaveLength(20)
        const bad = data.units.find((u: {name: string}) => u.name === 'bad')
        expect(bad).toMatchObject({kind: 'service', last_run: {status: 'ended', end_reason: 'start_failed'}, state: {status: 'fatal'}})
        expect(data.units.find((u: {name: string}) => u.name === 'fresh')).toEqual({name: 'fresh', kind: 'task', last_run: null})
      })
    })

    describe.sequential('trigger', () => {
      it('prints "started run ID of TASK"; --json prints the record and nothing else', async () => {
        const [res, json] = await Promise.all([b.cli(['trigger', 'hello']), b.cli(['trigger', 'ex', '--json'])])
        expect(res.code).toBe(0)
        const m = /^started run (\S+) of hello\n$/.exec(res.stdout)
        expect(m, res.stdout).not.toBeNull()
        expect(m![1]).toMatch(ULID)
        expect(await b.ended('hello', m![1])).toMatchObject({triggered_by: 'cli', end_reason: 'success', exit_code: 0})

        expect(json.code).toBe(0)
        expect(json.stdout.trim().split('\n')).toHaveLength(1)
        const run = JSON.parse(json.stdout)
        expect(run).toMatchObject({task_name: 'ex', kind: 'task', triggered_by: 'cli', id: expect.stringMatching(ULID), retry_attempt: 0, params: {}})
        expect(['running', 'ended']).toContain(run.status)
        expect(run).not.toHaveProperty('v')
        expect(run).not.toHaveProperty('process_start')
      })

      it('prints "queued" when the task is at its limit', async () => {
        const first = await b.cli(['trigger', 'slow'])
        const second = await b.cli(['trigger', 'slow'])
        expect(first.stdout).toMatch(/^started run \S+ of slow\n$/)
        expect(second.stdout).toMatch(/^queued run \S+ of slow\n$/)
        const stop = await api(b, 'POST', '/api/tasks/slow/stop')
        expect(stop.body.runs).toHaveLength(2)
      })

      it('--wait exits with the run exit code, 128+n for a signal, 0 for success', async () => {
        const [ok, seven, signal] = await Promise.all([b.cli(['trigger', 'hello', '--wait']), b.cli(['trigger', 'ex', '--wait']), b.cli(['trigger', 'sig', '--wait'])])
        expect(ok.code).toBe(0)
        expect(ok.stderr).toMatch(/run \S+ ended: success\n/)
        expect(seven.code).toBe(7)
        expect(seven.stderr).toMatch(/run \S+ ended: failed \(exited with code 7\)/)
        expect(signal.code).toBe(128 + 10)
        expect(signal.stderr).toContain('ended: failed (killed by SIGUSR1)')
      })

      it('--wait exits 1 for a run stopped before it started', async () => {
        await apiRun(b, 'slow', false)
        const known = new Set(b.runs('slow').map((r) => r.id))
        const waiting = spawnCli(b, ['trigger', 'slow', '--wait'])
        try {
          const queued = await newRun(b, 'slow', known, 'pending')
          await until(() => waiting.stdout() === `queued run ${queued.id} of slow\n`, 5000, 'the queued line')
          const stop = await b.cli(['stop', queued.id])
          expect(stop).toMatchObject({code: 0, stdout: `stopped run ${queued.id}\n`})
          expect(await waiting.exited).toBe(1)
          expect(waiting.stderr()).toContain(`run ${queued.id} ended: stopped`)
          expect(await b.ended('slow', queued.id)).toMatchObject({end_reason: 'stopped', started_at: null, exit_code: null, signal: null})
        } finally {
          waiting.kill('SIGKILL')
          await api(b, 'POST', '/api/tasks/slow/stop')
        }
      })

      it('--follow streams stdout to stdout and stderr to stderr until the run ends', async () => {
        const res = await b.cli(['trigger', 'follow', '--follow'])
        expect(res.code).toBe(0)
        expect(res.stdout).toMatch(/^started run \S+ of follow\none\nthree\n$/)
        expect(res.stderr).toMatch(/^two\nrun \S+ ended: success\n$/)
      })

      it('refuses an unknown task (3), a task with api_trigger = false (1) and a service (1)', async () => {
        const [unknown, locked, service] = await Promise.all([b.cli(['trigger', 'nope-not-here']), b.cli(['trigger', 'locked']), b.cli(['trigger', 'web'])])
        expect(unknown.code).toBe(3)
        expect(unwrap(unknown.stderr)).toContain('no task named "nope-not-here"')
        expect(unknown.stdout).toBe('')
        expect(locked.code).toBe(1)
        expect(unwrap(locked.stderr)).toContain('task "locked" has api_trigger = false')
        expect(b.runs('locked')).toHaveLength(0)
        expect(service.code).toBe(1)
        expect(unwrap(service.stderr)).toContain('"web" is a service')
      })

      it('refuses bad parameters with exit 2, naming the parameter, and creates no run', async () => {
        const before = b.runs('p').length
        const [wrong, missing, unknown] = await Promise.all([
          b.cli(['trigger', 'p', '--param', 'region=mars']),
          b.cli(['trigger', 'p', '--param', 'n=notanumber']),
          b.cli(['trigger', 'p', '--param', 'region=eu', '--param', 'colour=red']),
        ])
        expect(wrong.code).toBe(2)
        expect(unwrap(wrong.stderr)).toContain('parameter "--region": "mars" is not one of "eu", "us"')
        expect(missing.code).toBe(2)
        expect(unwrap(missing.stderr)).toContain('missing required parameter "--region"')
        expect(unwrap(missing.stderr)).toContain('parameter "n": expected a number')
        expect(unknown.code).toBe(2)
        expect(unwrap(unknown.stderr)).toContain('"colour"')
        expect(b.runs('p')).toHaveLength(before)
      })

      it('accepts --param before the task name without swallowing it', async () => {
        const [before, short, after] = await Promise.all([
          b.cli(['trigger', '--param', 'region=us', '--param', 'n=3', 'p', '--wait']),
          b.cli(['trigger', '-p', 'region=eu', 'p', '--wait']),
          b.cli(['trigger', 'p', '--param', 'region=eu', '--param', 'n=-1', '--wait']),
        ])
        for (const r of [before, short, after]) expect(r.code, r.stderr).toBe(0)
        const ids = [before, short, after].map((r) => /run (\S+) of p/.exec(r.stdout)![1])
        expect(await b.logText('p', ids[0])).toBe('args: --region us 3')
        expect(await b.logText('p', ids[1])).toBe('args: --region eu')
        expect(await b.logText('p', ids[2])).toBe('args: --region eu -1')
        expect(b.run('p', ids[0])!.params).toEqual({'--region': 'us', n: '3'})
      })

      it('exits 1 naming the recorded run when on_overlap = "skip" refuses it', async () => {
        await apiRun(b, 'sk', false)
        try {
          const res = await b.cli(['trigger', 'sk'])
          expect(res.code).toBe(1)
          const m = /run (\S+) of sk was not started: (.*)/.exec(unwrap(res.stderr))
          expect(m, res.stderr).not.toBeNull()
          expect(b.run('sk', m![1])).toMatchObject({status: 'ended', end_reason: 'skipped', started_at: null, triggered_by: 'cli'})
          expect(m![2]).toContain('on_overlap = "skip"')
        } finally {
          await api(b, 'POST', '/api/tasks/sk/stop')
        }
      })

      it('exits 1 naming the recorded run when the queue is full; --json prints it inside the error', async () => {
        await apiRun(b, 'qf', false)
        await apiRun(b, 'qf', false)
        try {
          const res = await b.cli(['trigger', 'qf', '--json'])
          expect(res.code).toBe(1)
          const {error} = JSON.parse(res.stdout)
          const m = /run (\S+) of qf was not started: (.*)/.exec(error.message)
          expect(m, res.stdout).not.toBeNull()
          expect(b.run('qf', m![1])).toMatchObject({end_reason: 'queue_full', started_at: null})
          expect(m![2]).toContain('queue full')
          expect(error).toMatchObject({exit_code: 1, run: {id: m![1], end_reason: 'queue_full'}})
          expect(res.stderr).toBe('')
        } finally {
          await api(b, 'POST', '/api/tasks/qf/stop')
        }
      })
    })

    describe.sequential('logs', () => {
      it('shows the newest run by default, or a run by id; stdout to stdout and stderr to stderr', async () => {
        const older = await apiRun(b, 'ex')
        await apiRun(b, 'hello')
        const [res, byId] = await Promise.all([b.cli(['logs', 'hello']), b.cli(['logs', older])])
        expect(res).toMatchObject({code: 0, stdout: 'out-line\n', stderr: 'err-line\n'})
        expect(byId).toMatchObject({code: 0, stdout: 'to-out\n', stderr: 'to-err\n'})
      })

      it("puts sched's own lines on stderr", async () => {
        const id = await apiRun(b, 'to')
        expect(await b.ended('to', id)).toMatchObject({end_reason: 'timeout'})
        const [res, json] = await Promise.all([b.cli(['logs', 'to']), b.cli(['logs', 'to', '--json'])])
        expect(res.code).toBe(0)
        expect(res.stdout).toBe('before\n')
        const err = res.stderr.split('\n').filter(Boolean)
        expect(err[0]).toBe('oops')
        expect(err.length).toBeGreaterThan(1)
        for (const line of err.slice(1)) expect(line).toMatch(/^\[sched\] /)
        const streams = json.stdout.trim().split('\n').map((l) => JSON.parse(l).stream)
        expect(streams.slice(0, 2).sort()).toEqual(['stderr', 'stdout'])
        expect(streams.slice(2).every((s: string) => s === 'system')).toBe(true)
        expect(json.stderr).toBe('')
      })

      it('-n N prints the last N lines; --json is NDJSON {n, ts, stream, text}, exactly those keys', async () => {
        const id = await apiRun(b, 'follow')
        const [one, two, none, json, last] = await Promise.all([
          b.cli(['logs', 'follow', '-n', '1']),
          b.cli(['logs', 'follow', '-n', '2']),
          b.cli(['logs', 'follow', '-n', '0']),
          b.cli(['logs', id, '--json']),
          b.cli(['logs', id, '--json', '-n', '1']),
        ])
        expect(one).toMatchObject({code: 0, stdout: 'three\n', stderr: ''})
        expect(two).toMatchObject({stdout: 'three\n', stderr: 'two\n'})
        expect(none).toMatchObject({code: 0, stdout: '', stderr: ''})

        expect(json.code).toBe(0)
        expect(json.stderr).toBe('')
        const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l))
        expect(lines.map((l) => Object.keys(l))).toEqual(Array(3).fill(['n', 'ts', 'stream', 'text']))
        expect(lines.map((l) => [l.n, l.stream, l.text])).toEqual([
          [0, 'stdout', 'one'],
          [1, 'stderr', 'two'],
          [2, 'stdout', 'three'],
        ])
        for (const l of lines) expect(Number.isInteger(l.ts) && Math.abs(l.ts - Date.now()) < 60_000).toBe(true)
        expect(JSON.parse(last.stdout)).toMatchObject({n: 2, text: 'three'})
      })

      it('exits 3 for an unknown name or id, 0 with a note for a unit with no runs yet', async () => {
        const [unknown, unknownId, fresh] = await Promise.all([b.cli(['logs', 'no-such-unit']), b.cli(['logs', '01ARZ3NDEKTSV4RRFFQ69G5FAV']), b.cli(['logs', 'fresh'])])
        expect(unknown.code).toBe(3)
        expect(unwrap(unknown.stderr)).toContain('no task, service or run named "no-such-unit"')
        expect(unknownId.code).toBe(3)
        expect(fresh).toMatchObject({code: 0, stdout: '', stderr: 'fresh has no runs yet\n'})
      })

      it('-f follows a run until it ends', async () => {
        const id = await apiRun(b, 'follow', false)
        const res = await b.cli(['logs', 'follow', '-f'])
        expect(res.code).toBe(0)
        expect(res.stdout).toBe('one\nthree\n')
        expect(res.stderr).toBe('two\n')
        // It returned because the run ended, not before.
        expect(await b.ended('follow', id, 1000)).toMatchObject({end_reason: 'success'})
      })

      it('-f on a service follows an instance across a restart, printing the new run', async () => {
        const first = b.runs('echo').find((r) => r.status === 'running')!
        const follower = spawnCli(b, ['logs', 'echo', '-f'])
        try {
          await until(() => follower.stdout().includes(`hi ${first.id}\n`), 5000, 'the first run in the follower')
          expect((await api(b, 'POST', '/api/tasks/echo/restart')).status).toBe(200)
          const second = await until(() => b.runs('echo').find((r) => r.id > first.id && r.status === 'running'), 5000, 'the new instance')
          await until(() => follower.stdout().includes(`hi ${second.id}\n`), 5000, 'the new run in the follower')
          expect(follower.stderr()).toContain(`--- echo#0 restarted: run ${second.id}`)
          expect(follower.stdout().split('\n').filter(Boolean)).toEqual([`hi ${first.id}`, `hi ${second.id}`])
        } finally {
          follower.kill('SIGKILL')
        }
      })
    })

    describe.sequential('stop, start, restart', () => {
      it('stops one run by id', async () => {
        const id = await apiRun(b, 'halt', false)
        const res = await b.cli(['stop', id])
        expect(res).toMatchObject({code: 0, stdout: `stopped run ${id}\n`})
        expect(await b.ended('halt', id)).toMatchObject({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM'})
      })

      it('stops every run of a task by name; nothing running is not an error', async () => {
        const id = await apiRun(b, 'halt', false)
        const res = await b.cli(['stop', 'halt'])
        expect(res).toMatchObject({code: 0, stdout: 'stopped halt (1 run)\n'})
        expect(await b.ended('halt', id)).toMatchObject({end_reason: 'stopped'})
        const again = await b.cli(['stop', 'halt'])
        expect(again).toMatchObject({code: 0, stdout: 'nothing running for halt\n'})
      })

      it('exits 3 for an unknown target and 1 for a run that has ended', async () => {
        const done = b.runs('hello').find((r) => r.status === 'ended')!
        const [unknown, ghost, ended] = await Promise.all([b.cli(['stop', 'nothing-by-this-name']), b.cli(['stop', '01ARZ3NDEKTSV4RRFFQ69G5FAV']), b.cli(['stop', done.id])])
        expect(unknown.code).toBe(3)
        expect(unwrap(unknown.stderr)).toContain('no task, service or run named "nothing-by-this-name"')
        expect(ghost.code).toBe(3)
        expect(ended.code).toBe(1)
        expect(unwrap(ended.stderr)).toContain(`run ${done.id} is not running`)
      })

      it('stops a service, which stays stopped; start brings it back; restart cycles it', async () => {
        const before = b.runs('ctl').find((r) => r.status === 'running')!
        const stop = await b.cli(['stop', 'ctl'])
        expect(stop).toMatchObject({code: 0, stdout: 'stopped ctl (stopped, 0/1 healthy)\n'})
        expect(await b.ended('ctl', before.id)).toMatchObject({end_reason: 'stopped'})
        await sleep(300)
        expect(b.runs('ctl').filter((r) => r.status !== 'ended')).toEqual([])
        expect((await api(b, 'GET', '/api/tasks/ctl')).body.state.status).toBe('stopped')

        const start = await b.cli(['start', 'ctl'])
        expect(start.code).toBe(0)
        expect(start.stdout).toMatch(/^started ctl \((starting|running), [01]\/1 healthy\)\n$/)
        const up = await until(() => b.runs('ctl').find((r) => r.status === 'running'), 5000, 'ctl to run again')
        await until(async () => (await api(b, 'GET', '/api/tasks/ctl')).body.state.status === 'running', 5000, 'ctl healthy')

        const [again, restart] = [await b.cli(['start', 'ctl']), await b.cli(['restart', 'ctl'])]
        expect(again).toMatchObject({code: 0, stdout: 'ctl is already running (running, 1/1 healthy)\n'})
        expect(restart.code).toBe(0)
        expect(restart.stdout).toMatch(/^restarted ctl \(/)
        expect(await b.ended('ctl', up.id)).toMatchObject({end_reason: 'stopped'})
        await until(() => b.runs('ctl').find((r) => r.id > up.id && r.status === 'running'), 5000, 'a new ctl instance')
      })

      it('start and restart apply to services only: a task exits 1, an unknown name 3', async () => {
        const results = await Promise.all(['start', 'restart'].flatMap((cmd) => [b.cli([cmd, 'hello']), b.cli([cmd, 'no-such-service'])]))
        for (const task of [results[0], results[2]]) {
          expect(task.code).toBe(1)
          expect(unwrap(task.stderr)).toContain('"hello" is a task')
        }
        for (const unknown of [results[1], results[3]]) {
          expect(unknown.code).toBe(3)
          expect(unwrap(unknown.stderr)).toContain('no service named "no-such-service"')
        }
      })

      it('start clears FATAL', async () => {
        const before = b.runs('flaky').length
        const res = await b.cli(['start', 'flaky', '--json'])
        expect(res.code).toBe(0)
        expect(JSON.parse(res.stdout)).toMatchObject({ok: true, action: 'started', unit: 'flaky'})
        // It fails at once again with start_retries = 0: a new run, FATAL again.
        await until(() => b.runs('flaky').length > before, 5000, 'a new run of flaky')
        await until(async () => (await api(b, 'GET', '/api/tasks/flaky')).body.state.status === 'fatal', 5000, 'flaky to be FATAL again')
      })
    })

    describe.sequential('next', () => {
      it('lists N ticks in the task zone; --json gives {at, local, zone, kind, note} with the DST gap and the repeated hour', async () => {
        const [table, res] = await Promise.all([b.cli(['next', 'dst', '-n', '3']), b.cli(['next', 'dst', '-n', '1000', '--json'])])
        expect(table.code).toBe(0)
        expect(header(table.stdout)).toEqual(['LOCAL TIME', 'ZONE', 'UTC', 'NOTE'])
        const rows = table.stdout.trim().split('\n').slice(1)
        expect(rows).toHaveLength(3)
        for (const r of rows) expect(r).toMatch(/^\d{4}-\d\d-\d\d 0[123]:30:00 {2}America\/New_York {2}\d{4}-\d\d-\d\dT\d\d:30:00\.000Z/)

        expect(res.code).toBe(0)
        const ticks = JSON.parse(res.stdout) as {at: string; local: string; zone: string; kind: string; note: string | null}[]
        expect(ticks).toHaveLength(1000)
        for (const t of ticks) {
          expect(Object.keys(t)).toEqual(['at', 'local', 'zone', 'kind', 'note'])
          expect(t.zone).toBe('America/New_York')
          expect(t.at).toMatch(ISO)
        }
        const ats = ticks.map((t) => Date.parse(t.at))
        expect(ats).toEqual([...ats].sort((x, y) => x - y))
        // 500 days always hold a spring-forward (02:30 does not exist) and a fall-back (01:30 twice).
        const gap = ticks.find((t) => t.note?.startsWith('in a DST gap'))
        expect(gap).toMatchObject({kind: 'fire', local: expect.stringMatching(/ 03:30:00$/), note: 'in a DST gap: runs 1h later'})
        const repeated = ticks.find((t) => t.kind === 'dst_skipped')
        expect(repeated).toMatchObject({local: expect.stringMatching(/ 01:30:00$/), note: expect.stringContaining('DST fall-back')})
        // The first 01:30 of that day fires, an hour before the skipped one.
        expect(ticks).toContainEqual(expect.objectContaining({kind: 'fire', at: new Date(Date.parse(repeated!.at) - 3_600_000).toISOString()}))
      })

      it('@every counts from the daemon start and says so', async () => {
        const [res, daemon] = await Promise.all([b.cli(['next', 'every', '-n', '2', '--json']), api(b, 'GET', '/api/daemon')])
        const started = Date.parse(daemon.body.started_at)
        const tick = (k: number) => new Date(started + k * 3_600_000).toISOString()
        expect(JSON.parse(res.stdout)).toEqual([
          {at: tick(1), local: tick(1), zone: null, kind: 'fire', note: "counted from the daemon's start"},
          {at: tick(2), local: tick(2), zone: null, kind: 'fire', note: "counted from the daemon's start"},
        ])
      })

      it('exits 3 for an unknown task and 1 for a task or service without a schedule', async () => {
        const [unknown, manual, service] = await Promise.all([b.cli(['next', 'zzz']), b.cli(['next', 'hello']), b.cli(['next', 'web'])])
        expect(unknown.code).toBe(3)
        expect(manual.code).toBe(1)
        expect(unwrap(manual.stderr)).toContain('task "hello" has no schedule')
        expect(service.code).toBe(1)
      })
    })
  })

  describe.concurrent('runs', () => {
    const b = new Sandbox()
    const ids: {ok: string[]; fail: string[]; api: string[]} = {ok: [], fail: [], api: []}

    beforeAll(async () => {
      b.write(`[tasks.ok]\nrun = "true"\n[tasks.fail]\nrun = "exit 3"\n[tasks.slow]\nrun = "sleep 30"\n`)
      await b.start()
      for (const task of ['ok', 'fail', 'ok'] as const) {
        const res = await b.cli(['trigger', task, '--wait'])
        ids[task].push(/run (\S+) of/.exec(res.stdout)![1])
      }
      const res = await api(b, 'POST', '/api/tasks/ok/run?wait=true')
      expect(res.status).toBe(201)
      ids.api.push(res.body.id)
    })

    afterAll(async () => {
      await b.dispose()
    })

    const json = async (args: string[]): Promise<RunRecord[]> => {
      const res = await b.cli(['runs', '--json', ...args])
      expect(res.code, res.stderr).toBe(0)
      return JSON.parse(res.stdout)
    }

    it('prints the history newest first as a table', async () => {
      const res = await b.cli(['runs'])
      expect(res.code).toBe(0)
      expect(header(res.stdout)).toEqual(['ID', 'TASK', 'STATUS', 'TRIGGER', 'STARTED (UTC)', 'DURATION', 'EXIT', 'MESSAGE'])
      const rows = res.stdout.trim().split('\n').slice(1).map((l) => l.split(/ {2,}/))
      expect(rows.map((r) => r[0])).toEqual([ids.api[0], ids.ok[1], ids.fail[0], ids.ok[0]])
      expect(rows[0].slice(1, 4)).toEqual(['ok', 'success', 'api'])
      expect(rows[2].slice(1, 4)).toEqual(['fail', 'failed', 'cli'])
      expect(rows[2][6]).toBe('3')
    })

    it('--json is the array of records, the same runs as GET /api/runs', async () => {
      const runs = await json([])
      expect(runs.map((r) => r.id)).toEqual([ids.api[0], ids.ok[1], ids.fail[0], ids.ok[0]])
      expect(runs[0]).not.toHaveProperty('v')
      expect(runs[0]).not.toHaveProperty('process_start')
      const http = await api(b, 'GET', '/api/runs')
      expect(http.body.runs).toEqual(runs)
    })

    it('filters by task, --status (end reason or phase), --triggered-by, and --limit', async () => {
      const ids_ = (runs: RunRecord[]) => runs.map((r) => r.id)
      const [task, failed, successCli, byApi, none, ended, limited, one] = await Promise.all([
        json(['ok']),
        json(['--status', 'failed']),
        json(['--status', 'success', 'ok', '--triggered-by', 'cli']),
        json(['--triggered-by', 'api']),
        json(['--status', 'timeout']),
        json(['--status', 'ended']),
        json(['--limit', '2']),
        json(['-n', '1', 'fail']),
      ])
      expect(ids_(task)).toEqual([ids.api[0], ids.ok[1], ids.ok[0]])
      expect(ids_(failed)).toEqual(ids.fail)
      expect(ids_(successCli)).toEqual([ids.ok[1], ids.ok[0]])
      expect(ids_(byApi)).toEqual(ids.api)
      expect(none).toEqual([])
      expect(ended).toHaveLength(4)
      expect(ids_(limited)).toEqual([ids.api[0], ids.ok[1]])
      expect(ids_(one)).toEqual(ids.fail)
    })

    it('--status running and pending are phases', async () => {
      const running = (await api(b, 'POST', '/api/tasks/slow/run')).body.id
      const pending = (await api(b, 'POST', '/api/tasks/slow/run')).body.id
      try {
        const [r, p, e] = await Promise.all([json(['--status', 'running']), json(['--status', 'pending']), json(['slow', '--status', 'ended'])])
        expect(r.map((x) => x.id)).toEqual([running])
        expect(p.map((x) => x.id)).toEqual([pending])
        expect(e).toEqual([])
      } finally {
        await api(b, 'POST', '/api/tasks/slow/stop')
      }
    })

    it('says how many more there are beyond --limit, on stderr', async () => {
      const res = await b.cli(['runs', 'ok', '--limit', '1'])
      expect(res.stdout.trim().split('\n')).toHaveLength(2)
      expect(res.stderr).toMatch(/more.*use --limit/)
    })

    it('exits 2 for an unknown status or trigger source, naming the valid ones; "no runs" for a unit without any', async () => {
      const [status, source, empty] = await Promise.all([b.cli(['runs', '--status', 'exploded']), b.cli(['runs', '--triggered-by', 'cosmic-ray']), b.cli(['runs', 'nothing-here'])])
      expect(status.code).toBe(2)
      expect(unwrap(status.stderr)).toContain('unknown status "exploded"')
      expect(unwrap(status.stderr)).toContain('queue_full')
      expect(source.code).toBe(2)
      expect(unwrap(source.stderr)).toContain('unknown trigger source "cosmic-ray"')
      expect(empty).toMatchObject({code: 0, stdout: '', stderr: 'no runs\n'})
    })
  })

  describe.concurrent('reload', () => {
    const b = new Sandbox()
    const base = `[tasks.keep]\nrun = "echo keep-v1"\n[tasks.change]\nrun = "echo change-v1"\n[tasks.gone]\nrun = "true"\n[services.svc]\nrun = "exec sleep 1000"\nhealthy_after = "0s"\n`

    beforeAll(async () => {
      b.write(base)
      await b.start()
    })

    afterAll(async () => {
      await b.dispose()
    })

    it('prints added, changed and removed', async () => {
      b.write(`[tasks.keep]\nrun = "echo keep-v1"\n[tasks.change]\nrun = "echo change-v2"\n[tasks.fresh]\nrun = "true"\n[tasks.fresh2]\nrun = "true"\n[services.svc]\nrun = "exec sleep 1000"\nhealthy_after = "0s"\n`)
      const res = await b.cli(['reload'])
      expect(res).toMatchObject({code: 0, stdout: 'added: fresh, fresh2\nchanged: change\nremoved: gone\n'})
      const id = await b.trigger('change')
      await b.ended('change', id)
      expect(await b.logText('change', id)).toBe('change-v2')
      expect((await b.cli(['reload'])).stdout).toBe('no changes\n')
    })

    it('an invalid edit prints file:line:column errors, exits 1 and changes nothing', async () => {
      const good = readFileSync(b.config, 'utf8')
      b.write(`${good.replace('change-v2', 'change-v3')}[tasks.broken]\nrun = "true"\ntimeout = "soon"\nretyr_attempts = 2\n`)
      try {
        const res = await b.cli(['reload'])
        expect(res.code).toBe(1)
        expect(res.stdout).toBe('')
        const lines = good.split('\n').length - 1
        expect(res.stderr).toContain(`${b.config}:${lines + 3}:1 tasks.broken.timeout: `)
        expect(res.stderr).toContain(`${b.config}:${lines + 4}:1 tasks.broken.retyr_attempts: unknown key "retyr_attempts" (did you mean "retry_attempts"?)`)
        expect(unwrap(res.stderr)).toContain('has 2 errors; nothing changed')
        expect((await api(b, 'GET', '/api/tasks/broken')).status).toBe(404)
        // The old definition still runs.
        const id = await b.trigger('change')
        await b.ended('change', id)
        expect(await b.logText('change', id)).toBe('change-v2')
      } finally {
        b.write(good)
      }
    })

    it('refuses a [daemon] change: restart required', async () => {
      const good = readFileSync(b.config, 'utf8')
      b.write(`[daemon]\nshutdown_timeout = "3s"\n${good}[tasks.extra]\nrun = "true"\n`)
      try {
        const res = await b.cli(['reload'])
        expect(res.code).toBe(1)
        expect(unwrap(res.stderr)).toContain('[daemon] changed: restart required')
        expect((await api(b, 'GET', '/api/tasks/extra')).status).toBe(404)
      } finally {
        b.write(good)
      }
    })

    it('SIGHUP reloads too', async () => {
      const good = readFileSync(b.config, 'utf8')
      b.write(`${good}[tasks.byhup]\nrun = "true"\n`)
      expect((await api(b, 'GET', '/api/tasks/byhup')).status).toBe(404)
      b.daemon!.child.kill('SIGHUP')
      await until(async () => (await api(b, 'GET', '/api/tasks/byhup')).status === 200, 5000, 'the SIGHUP reload')
      expect(b.daemon!.child.exitCode).toBeNull()
    })
  })

  describe.concurrent('without a daemon', () => {
    const b = new Sandbox()

    beforeAll(() => {
      b.write(TASKS + SERVICES)
    })

    afterAll(async () => {
      await b.dispose()
    })

    it('list works and shows services stopped, @every without a next run', async () => {
      const [res, json] = await Promise.all([b.cli(['list']), b.cli(['list', '--json'])])
      expect(res.code).toBe(0)
      expect(row(res.stdout, 'web')).toEqual(['web', 'service', '2 instances', '—', '—', 'stopped'])
      expect(row(res.stdout, 'every')).toEqual(['every', 'task', '@every 1h', '—', '—'])
      const tasks = JSON.parse(json.stdout)
      expect(tasks.find((t: {name: string}) => t.name === 'every')).not.toHaveProperty('next_run_at')
      expect(tasks.find((t: {name: string}) => t.name === 'dst').next_run_at).toMatch(ISO)
    })

    it('status exits 4 and says no daemon; --json has daemon null', async () => {
      const [res, json] = await Promise.all([b.cli(['status']), b.cli(['status', '--json'])])
      expect(res.code).toBe(4)
      expect(res.stdout).toMatch(/^no daemon is serving this state directory\n/)
      expect(json.code).toBe(4)
      const data = JSON.parse(json.stdout)
      expect(data).toMatchObject({daemon: null, busy: null, active_runs: []})
      expect(data.units.find((u: {name: string}) => u.name === 'web')).toEqual({name: 'web', kind: 'service', last_run: null, state: null})
    })

    it('trigger runs in the foreground with the run exit code and separate streams, recorded in the state', async () => {
      const res = await b.cli(['trigger', 'ex'])
      expect(res.code).toBe(7)
      expect(res.stdout).toBe('to-out\n')
      expect(res.stderr).toMatch(/^to-err\nrun (\S+) ended: failed \(exited with code 7\)\n$/)
      const id = /run (\S+) ended/.exec(res.stderr)![1]
      expect(b.run('ex', id)).toMatchObject({triggered_by: 'cli', end_reason: 'failed', exit_code: 7})
      const [logs, runs] = await Promise.all([b.cli(['logs', 'ex']), b.cli(['runs', '--json'])])
      expect(logs).toMatchObject({code: 0, stdout: 'to-out\n', stderr: 'to-err\n'})
      expect(JSON.parse(runs.stdout).map((r: RunRecord) => r.id)).toEqual([id])
    })

    // Four CLI processes one after another, one of them a foreground run: slow on a loaded box.
    it('trigger --json prints the final record; refusals keep their exit codes', async () => {
      const res = await b.cli(['trigger', 'hello', '--json'])
      expect(res.code).toBe(0)
      expect(JSON.parse(res.stdout.split('\n').filter((l) => l.startsWith('{'))[0])).toMatchObject({task_name: 'hello', status: 'ended', end_reason: 'success'})
      expect((await b.cli(['trigger', 'zzz'])).code).toBe(3)
      expect((await b.cli(['trigger', 'p', '--param', 'region=xx'])).code).toBe(2)
      expect((await b.cli(['trigger', 'locked'])).code).toBe(1)
      expect(b.runs('p')).toHaveLength(0)
      expect(b.runs('locked')).toHaveLength(0)
    }, 90_000)

    it('next works and counts @every from now', async () => {
      const res = await b.cli(['next', 'every', '--json', '-n', '1'])
      expect(res.code).toBe(0)
      expect(JSON.parse(res.stdout)).toEqual([{at: expect.stringMatching(ISO), local: expect.any(String), zone: null, kind: 'fire', note: 'counted from now (no daemon running)'}])
    })

    it('stop, start, restart and reload exit 4', async () => {
      const results = await Promise.all([b.cli(['stop', 'slow']), b.cli(['start', 'web']), b.cli(['restart', 'web']), b.cli(['reload'])])
      for (const res of results) {
        expect(res.code).toBe(4)
        expect(unwrap(res.stderr)).toContain(`no daemon is serving ${b.state}`)
      }
    })

    it('validate exits 0 for a valid file, 1 with file:line:column errors for an invalid one', async () => {
      const bad = b.path('bad.toml')
      writeFileSync(bad, '[tasks.a]\nrun = "true"\ncron = "@reboot"\n\n[services.s]\nrun = "x"\ncron = "* * * * *"\n')
      const [ok, res, json, missing] = await Promise.all([b.cli(['validate']), bare(['validate', '-c', bad]), bare(['validate', '-c', bad, '--json']), bare(['validate', '-c', b.path('nope.toml')])])
      expect(ok).toMatchObject({code: 0, stdout: `ok ${b.config}: 14 tasks, 6 services\n`})
      expect(res.code).toBe(1)
      expect(res.stdout).toContain(`${bad}:3:1 tasks.a.cron: invalid cron "@reboot"`)
      expect(res.stdout).toContain(`${bad}:7:1 services.s.cron: "cron" applies to tasks only`)
      expect(res.stdout.endsWith(`invalid ${bad}: 2 errors\n`)).toBe(true)
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout)).toMatchObject({valid: false, config_path: bad, units: 0, errors: [{key: 'tasks.a.cron', line: 3, column: 1}, {key: 'services.s.cron', line: 7, column: 1}]})
      expect(missing.code).toBe(1)
      expect(unwrap(missing.stderr)).toContain('does not exist')
    })

    it('never prints colour in a pipe, even without NO_COLOR', async () => {
      const plain = {NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color'}
      const bad = b.path('colour-bad.toml')
      writeFileSync(bad, '[tasks.a]\nrun = "true"\ntimeout = "soon"\n')
      const commands = [['list'], ['status'], ['next', 'dst'], ['validate', '-c', bad], ['trigger', 'zzz', '-c', b.config]]
      const results = await Promise.all(commands.map((args) => (args.includes('-c') ? bare(args, plain) : b.cli(args, plain))))
      results.forEach((res, i) => {
        expect(res.stdout + res.stderr, commands[i].join(' ')).not.toBe('')
        expect(res.stdout, commands[i].join(' ')).not.toContain(ESC)
        expect(res.stderr, commands[i].join(' ')).not.toContain(ESC)
      })
    })

    baseIt.skipIf(spawnSync('script', ['--version']).status !== 0)('colours a terminal, but not with NO_COLOR set (through script(1))', () => {
      const tty = (env: NodeJS.ProcessEnv) =>
        spawnSync('script', ['-qec', `${q(process.execPath)} ${q(BIN)} list -c ${q(b.config)} --state-dir ${q(b.state)}`, '/dev/null'], {env: {...process.env, FORCE_COLOR: undefined, TERM: 'xterm', ...env}, encoding: 'utf8'}).stdout
      const [coloured, withNoColor] = [tty({NO_COLOR: undefined}), tty({NO_COLOR: '1'})]
      expect(coloured).toContain(ESC)
      expect(withNoColor).toContain('NAME')
      expect(withNoColor).not.toContain(ESC)
    })
  })
})
