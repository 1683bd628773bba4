import {readFileSync} from 'node:fs'
import {request} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RunRecord} from '../../src/state/run-record.js'
import {ISO, ULID, type ApiResponse, api, openSse} from '../support/control.js'
import {Sandbox, sleep, until} from '../support/sandbox.js'

/**
 * Every route of SPEC §11 through fetch against one real daemon (port 0). Units are chosen so
 * that tests do not disturb each other; the config is edited only by the last tests (reload).
 */

const CONFIG = `
[tasks.hello]
run = 'echo out-line; echo err-line >&2'

[tasks.ex]
run = 'echo to-out; exit 7'

[tasks.lines]
run = 'for i in 1 2 3 4 5; do echo "line $i"; done'

[tasks.drip]
run = 'echo first; sleep 0.5; echo second; sleep 0.5; echo third'

[tasks.slow]
run = 'sleep 30'

[tasks.stopme]
run = 'sleep 30'

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

[tasks.nightly]
run = "true"
cron = "0 3 * * *"
timezone = "Asia/Tokyo"

[services.web]
run = "exec sleep 1000"
instances = 2
healthy_after = "0s"

[services.guarded]
run = "exec sleep 1000"
api_trigger = false
healthy_after = "0s"

[services.off]
run = "exec sleep 1000"
autostart = false
healthy_after = "0s"
`

const PROBLEM = 'application/problem+json'

/** An error answer: problem+json in the seed's shape. */
function expectProblem(res: ApiResponse, status: number): void {
  expect(res.status, res.text).toBe(status)
  expect(res.headers.get('content-type')).toBe(PROBLEM)
  expect(res.body).toMatchObject({status, type: 'about:blank', title: expect.any(String), detail: expect.any(String)})
}

describe('HTTP API routes', () => {
  const b = new Sandbox()

  beforeAll(async () => {
    b.write(CONFIG)
    await b.start()
    await until(async () => (await api(b, 'GET', '/api/tasks/web')).body.state.status === 'running', 10_000, 'web to be running')
  })

  afterAll(async () => {
    await b.dispose()
  })

  const run = async (task: string, query = '', body?: unknown): Promise<ApiResponse> => api(b, 'POST', `/api/tasks/${task}/run${query}`, {body})
  const runsOf = (task: string) => b.runs(task)
  /** How many runs a task has, from the daemon's index (the disk lags a moment behind a run's end). */
  const count = async (task: string): Promise<number> => (await api(b, 'GET', `/api/runs?task_name=${task}&limit=1`)).body.total

  describe('GET /api/tasks/{name}', () => {
    it('a task: the task object plus state {status, active_runs, queued, instances}', async () => {
      const idle = await api(b, 'GET', '/api/tasks/nightly')
      expect(idle.status).toBe(200)
      expect(idle.headers.get('content-type')).toBe('application/json')
      expect(idle.body).toMatchObject({name: 'nightly', kind: 'task', cron: '0 3 * * *', timezone: 'Asia/Tokyo', next_run_at: expect.stringMatching(/T18:00:00(\.000)?Z$/)})
      expect(idle.body.state).toEqual({status: 'idle', active_runs: 0, queued: 0, instances: []})
      // The same object as in the list, plus state.
      const list = (await api(b, 'GET', '/api/tasks')).body as {name: string}[]
      const {state: _, ...task} = idle.body
      expect(list.find((t) => t.name === 'nightly')).toEqual(task)

      const first = await run('slow')
      const second = await run('slow')
      try {
        expect([first.status, second.status]).toEqual([201, 201])
        const busy = await api(b, 'GET', '/api/tasks/slow')
        expect(busy.body.state).toEqual({status: 'running', active_runs: 1, queued: 1, instances: []})
      } finally {
        await api(b, 'POST', '/api/tasks/slow/stop')
      }
      expect((await api(b, 'GET', '/api/tasks/slow')).body.state).toEqual({status: 'idle', active_runs: 0, queued: 0, instances: []})
    })

    it('a service: status and its instances [{index, status, pid, run_id, restarts}]', async () => {
      const res = await api(b, 'GET', '/api/tasks/web')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({name: 'web', kind: 'service', instances: 2})
      expect(res.body.state).toMatchObject({status: 'running', active_runs: 2, queued: 0})
      expect(res.body.state.instances).toEqual([0, 1].map((index) => ({index, status: 'running', pid: expect.any(Number), run_id: expect.stringMatching(ULID), restarts: 0})))
      const live = runsOf('web').filter((r) => r.status === 'running')
      expect(res.body.state.instances.map((i: {run_id: string}) => i.run_id).sort()).toEqual(live.map((r) => r.id).sort())
      const off = await api(b, 'GET', '/api/tasks/off')
      expect(off.body.state).toMatchObject({status: 'stopped', active_runs: 0})
    })

    it('404 problem+json for an unknown name', async () => {
      const res = await api(b, 'GET', '/api/tasks/nothing')
      expectProblem(res, 404)
      expect(res.body.errors).toEqual([{location: 'path.name', message: expect.any(String), value: 'nothing'}])
    })
  })

  describe('POST /api/tasks/{name}/run', () => {
    it('201 with the run record; params are resolved and rendered', async () => {
      const res = await run('p', '', {params: {'--region': 'us', n: 3}})
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({id: expect.stringMatching(ULID), task_name: 'p', kind: 'task', triggered_by: 'api', params: {'--region': 'us', n: '3'}, retry_attempt: 0})
      expect(res.body).not.toHaveProperty('v')
      await b.ended('p', res.body.id)
      expect(await b.logText('p', res.body.id)).toBe('args: --region us 3')
      // A key matches without its dashes too.
      const bare = await run('p', '?wait=true', {params: {region: 'eu'}})
      expect(bare.status).toBe(201)
      expect(bare.body.params).toEqual({'--region': 'eu'})
    })

    it('400 naming each bad parameter in errors[].location, and no run is created', async () => {
      const before = await count('p')
      const res = await run('p', '', {params: {'--region': 'mars', n: 'many'}})
      expectProblem(res, 400)
      expect(res.body.errors).toEqual([
        {location: 'body.params.--region', message: expect.stringContaining('"mars" is not one of "eu", "us"'), value: 'mars'},
        {location: 'body.params.n', message: expect.stringContaining('expected a number'), value: 'many'},
      ])
      const missing = await run('p', '', {params: {}})
      expectProblem(missing, 400)
      expect(missing.body.errors).toEqual([expect.objectContaining({location: 'body.params.--region', message: expect.stringContaining('missing required')})])
      const unknown = await run('p', '', {params: {region: 'eu', color: 'red'}})
      expectProblem(unknown, 400)
      expect(unknown.body.errors).toEqual([expect.objectContaining({location: 'body.params.color', value: 'red'})])
      const nested = await run('p', '', {params: {region: {deep: true}}})
      expectProblem(nested, 400)
      expect(nested.body.errors).toEqual([expect.objectContaining({location: 'body.params.region'})])
      const notObject = await run('p', '', {params: ['eu']})
      expectProblem(notObject, 400)
      expect(notObject.body.errors).toEqual([expect.objectContaining({location: 'body.params'})])
      expectProblem(await run('p', '', ['eu']), 400)
      await sleep(100)
      expect(await count('p')).toBe(before)
    })

    it('403 for api_trigger = false, 404 for an unknown task, 409 for a service', async () => {
      const locked = await run('locked')
      expectProblem(locked, 403)
      expect(locked.body.detail).toContain('api_trigger = false')
      expect(runsOf('locked')).toEqual([])
      expectProblem(await run('ghost'), 404)
      const service = await run('web')
      expectProblem(service, 409)
      expect(service.body.detail).toContain('is a service')
    })

    it('409 when on_overlap = "skip" refuses it, the body naming the recorded run', async () => {
      expect((await run('sk')).status).toBe(201)
      try {
        const res = await run('sk')
        expectProblem(res, 409)
        expect(res.body.run).toMatchObject({id: expect.stringMatching(ULID), task_name: 'sk', status: 'ended', end_reason: 'skipped', triggered_by: 'api', started_at: null})
        const stored = await api(b, 'GET', `/api/runs/${res.body.run.id}`)
        expect(stored.body).toEqual(res.body.run)
      } finally {
        await api(b, 'POST', '/api/tasks/sk/stop')
      }
    })

    it('409 when the queue is full, the body naming the recorded run', async () => {
      expect((await run('qf')).status).toBe(201)
      try {
        expect((await run('qf')).body.status).toBe('pending')
        const res = await run('qf')
        expectProblem(res, 409)
        expect(res.body.run).toMatchObject({end_reason: 'queue_full', message: expect.stringContaining('queue full')})
        expect(b.run('qf', res.body.run.id)).toMatchObject({end_reason: 'queue_full'})
      } finally {
        await api(b, 'POST', '/api/tasks/qf/stop')
      }
    })

    it('?wait=true answers with the ended run; a short wait_timeout answers while it still runs', async () => {
      const done = await run('ex', '?wait=true')
      expect(done.status).toBe(201)
      expect(done.body).toMatchObject({status: 'ended', end_reason: 'failed', exit_code: 7, ended_at: expect.stringMatching(ISO)})
      const t0 = Date.now()
      const short = await run('slow', '?wait=true&wait_timeout=300ms')
      try {
        expect(short.status).toBe(201)
        expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
        expect(Date.now() - t0).toBeLessThan(5000)
        expect(short.body).toMatchObject({status: 'running', end_reason: null})
      } finally {
        await api(b, 'POST', '/api/tasks/slow/stop')
      }
    })

    it('400 for a wait_timeout that is not a duration, and no run is created', async () => {
      const before = await count('hello')
      const res = await run('hello', '?wait=true&wait_timeout=soon')
      expectProblem(res, 400)
      expect(res.body.errors).toEqual([{location: 'query.wait_timeout', message: expect.any(String), value: 'soon'}])
      await sleep(200)
      expect(await count('hello')).toBe(before)
    })
  })

  describe('POST /api/tasks/{name}/stop, /start, /restart', () => {
    it('stop a task: 200 with the runs stopped; nothing running is 200 too', async () => {
      const id = (await run('stopme')).body.id
      const res = await api(b, 'POST', '/api/tasks/stopme/stop')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ok: true, action: 'stopped', unit: 'stopme', runs: [id]})
      expect((await api(b, 'GET', `/api/runs/${id}`)).body).toMatchObject({status: 'ended', end_reason: 'stopped'})
      const again = await api(b, 'POST', '/api/tasks/stopme/stop')
      expect(again.status).toBe(200)
      expect(again.body).toEqual({ok: true, action: 'nothing_running', unit: 'stopme', runs: []})
    })

    it('start, restart and stop a service: 200 with what was done and its state', async () => {
      const start = await api(b, 'POST', '/api/tasks/off/start')
      expect(start.status).toBe(200)
      expect(start.body).toMatchObject({ok: true, action: 'started', unit: 'off', state: {status: expect.stringMatching(/^(starting|running)$/), instances: [expect.objectContaining({index: 0})]}})
      await until(async () => (await api(b, 'GET', '/api/tasks/off')).body.state.status === 'running', 5000, 'off to run')
      const already = await api(b, 'POST', '/api/tasks/off/start')
      expect(already.body).toMatchObject({ok: true, action: 'already_running'})
      const first = runsOf('off').find((r) => r.status === 'running')!
      const restart = await api(b, 'POST', '/api/tasks/off/restart')
      expect(restart.status).toBe(200)
      expect(restart.body).toMatchObject({ok: true, action: 'restarted', unit: 'off'})
      expect((await api(b, 'GET', `/api/runs/${first.id}`)).body).toMatchObject({status: 'ended', end_reason: 'stopped'})
      const stop = await api(b, 'POST', '/api/tasks/off/stop')
      expect(stop.status).toBe(200)
      expect(stop.body).toEqual({ok: true, action: 'stopped', unit: 'off', state: {status: 'stopped', instances: [{index: 0, status: 'stopped', pid: null, run_id: null, restarts: 0}]}})
    })

    it('403 for a service with api_trigger = false, 404 for unknown names, 409 start/restart of a task', async () => {
      for (const action of ['stop', 'start', 'restart']) {
        const guarded = await api(b, 'POST', `/api/tasks/guarded/${action}`)
        expectProblem(guarded, 403)
        expect(guarded.body.detail).toContain('api_trigger = false')
        expectProblem(await api(b, 'POST', `/api/tasks/ghost/${action}`), 404)
      }
      expect((await api(b, 'GET', '/api/tasks/guarded')).body.state.status).toBe('running')
      expectProblem(await api(b, 'POST', '/api/tasks/hello/start'), 409)
      expectProblem(await api(b, 'POST', '/api/tasks/hello/restart'), 409)
    })
  })

  describe('/api/runs', () => {
    let ids: string[] = []

    beforeAll(async () => {
      ids = []
      for (let i = 0; i < 7; i++) ids.push((await run(i % 3 === 2 ? 'ex' : 'lines', '?wait=true')).body.id)
      // The tests below compare the API with the records on disk, written just after each run ends.
      for (const [i, id] of ids.entries()) await b.ended(i % 3 === 2 ? 'ex' : 'lines', id)
    })

    it('GET /api/runs: {runs, total, next}, newest first, filtered by task_name, status and triggered_by', async () => {
      const all = await api(b, 'GET', '/api/runs?limit=1000')
      expect(all.status).toBe(200)
      expect(Object.keys(all.body)).toEqual(['runs', 'total', 'next'])
      const allIds = all.body.runs.map((r: RunRecord) => r.id)
      expect(allIds).toEqual([...allIds].sort().reverse())
      expect(all.body.total).toBe(allIds.length)
      expect(all.body.next).toBeNull()
      expect(allIds.slice(0, 7)).toEqual([...ids].reverse())

      const lines = await api(b, 'GET', '/api/runs?task_name=lines')
      expect(lines.body.runs.every((r: RunRecord) => r.task_name === 'lines')).toBe(true)
      expect(lines.body.total).toBe(runsOf('lines').length)
      const failed = await api(b, 'GET', '/api/runs?status=failed&task_name=ex')
      expect(failed.body.runs.map((r: RunRecord) => r.id)).toEqual(runsOf('ex').filter((r) => r.end_reason === 'failed').map((r) => r.id).reverse())
      const ended = await api(b, 'GET', '/api/runs?status=ended&limit=1000')
      expect(ended.body.runs.every((r: RunRecord) => r.status === 'ended')).toBe(true)
      const running = await api(b, 'GET', '/api/runs?status=running&limit=1000')
      expect(running.body.runs.map((r: RunRecord) => r.task_name).sort()).toEqual(['guarded', 'web', 'web'])
      const cli = await api(b, 'GET', '/api/runs?triggered_by=cli')
      expect(cli.body).toEqual({runs: [], total: 0, next: null})
      const service = await api(b, 'GET', '/api/runs?triggered_by=service&status=running')
      expect(service.body.total).toBe(3)
    })

    it('limit: default 50, 1..1000, anything else 400 problem+json', async () => {
      for (const limit of ['0', '1001', '-1', '2.5', 'ten']) {
        const res = await api(b, 'GET', `/api/runs?limit=${limit}`)
        expectProblem(res, 400)
        expect(res.body.errors).toEqual([{location: 'query.limit', message: expect.any(String), value: limit}])
      }
      expect((await api(b, 'GET', '/api/runs?limit=1000')).status).toBe(200)
      expect((await api(b, 'GET', '/api/runs?limit=1')).body.runs).toHaveLength(1)
      const unknown = await api(b, 'GET', '/api/runs?status=exploded')
      expectProblem(unknown, 400)
      expectProblem(await api(b, 'GET', '/api/runs?triggered_by=moon'), 400)
    })

    it('pagination: next passed as before covers every run exactly once', async () => {
      const all = (await api(b, 'GET', '/api/runs?limit=1000')).body
      const seen: string[] = []
      let before: string | null = null
      let pages = 0
      do {
        const page: ApiResponse = await api(b, 'GET', `/api/runs?limit=3${before ? `&before=${before}` : ''}`)
        expect(page.status).toBe(200)
        expect(page.body.runs.length).toBeLessThanOrEqual(3)
        if (pages === 0) expect(page.body.total).toBe(all.total)
        seen.push(...page.body.runs.map((r: RunRecord) => r.id))
        before = page.body.next
        if (before !== null) expect(before).toBe(page.body.runs.at(-1).id)
        pages++
      } while (before !== null && pages < 100)
      expect(seen).toEqual(all.runs.map((r: RunRecord) => r.id))
      expect(new Set(seen).size).toBe(seen.length)
      expect(pages).toBe(Math.ceil(all.total / 3))
      // Filters hold across pages.
      const page1 = (await api(b, 'GET', '/api/runs?task_name=lines&limit=2')).body
      const page2 = (await api(b, 'GET', `/api/runs?task_name=lines&limit=2&before=${page1.next}`)).body
      expect([...page1.runs, ...page2.runs].map((r: RunRecord) => r.id)).toEqual(runsOf('lines').map((r) => r.id).reverse().slice(0, 4))
    })

    it('GET /api/runs/{id}: 200 the run, 404 problem+json for an unknown id', async () => {
      const res = await api(b, 'GET', `/api/runs/${ids[2]}`)
      expect(res.status).toBe(200)
      const {v: _v, process_start: _p, ...onDisk} = b.run('ex', ids[2])!
      expect(res.body).toEqual(onDisk)
      const missing = await api(b, 'GET', '/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV')
      expectProblem(missing, 404)
      expect(missing.body.errors).toEqual([{location: 'path.id', message: expect.any(String), value: '01ARZ3NDEKTSV4RRFFQ69G5FAV'}])
    })

    it('POST /api/runs/{id}/stop: 200 for a running run, 409 once it is not running, 404 unknown', async () => {
      const id = (await run('slow')).body.id
      const res = await api(b, 'POST', `/api/runs/${id}/stop`)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ok: true, action: 'stopped', runs: [id]})
      expect((await api(b, 'GET', `/api/runs/${id}`)).body).toMatchObject({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM'})
      const again = await api(b, 'POST', `/api/runs/${id}/stop`)
      expectProblem(again, 409)
      expect(again.body.detail).toContain('not running')
      expectProblem(await api(b, 'POST', `/api/runs/${ids[0]}/stop`), 409)
      expectProblem(await api(b, 'POST', '/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/stop'), 404)
    })
  })

  describe('run logs', () => {
    let id = ''
    let mixed = ''

    beforeAll(async () => {
      id = (await run('lines', '?wait=true')).body.id
      mixed = (await run('hello', '?wait=true')).body.id
    })

    const log = (runId: string, query = '') => api(b, 'GET', `/api/runs/${runId}/log${query}`)

    it('GET …/log: lines with absolute n, first_available, total_lines, truncated, finalized', async () => {
      const res = await log(id)
      expect(res.status).toBe(200)
      expect(Object.keys(res.body).sort()).toEqual(['finalized', 'first_available', 'lines', 'total_lines', 'truncated'])
      expect(res.body).toMatchObject({first_available: 0, total_lines: 5, truncated: false, finalized: true})
      expect(res.body.lines.map((l: {n: number; text: string; stream: string}) => [l.n, l.stream, l.text])).toEqual([1, 2, 3, 4, 5].map((i) => [i - 1, 'stdout', `line ${i}`]))
      for (const l of res.body.lines) {
        expect(Object.keys(l)).toEqual(['n', 'ts', 'stream', 'text'])
        expect(Number.isInteger(l.ts)).toBe(true)
      }
      const streams = (await log(mixed)).body.lines.map((l: {stream: string}) => l.stream).sort()
      expect(streams).toEqual(['stderr', 'stdout'])
    })

    it('from and limit, including a negative from counted from the end', async () => {
      const texts = async (query: string) => (await log(id, query)).body.lines.map((l: {n: number}) => l.n)
      expect(await texts('?from=2&limit=2')).toEqual([2, 3])
      expect(await texts('?from=-2')).toEqual([3, 4])
      expect(await texts('?from=-2&limit=1')).toEqual([3])
      expect(await texts('?from=-100')).toEqual([0, 1, 2, 3, 4])
      expect(await texts('?from=4')).toEqual([4])
      expect(await texts('?from=5')).toEqual([])
      const page = await log(id, '?from=3&limit=1')
      expect(page.body).toMatchObject({total_lines: 5, first_available: 0, finalized: true})
      for (const query of ['?limit=0', '?limit=10001', '?from=abc', '?from=1.5', '?limit=x']) {
        const res = await log(id, query)
        expectProblem(res, 400)
        expect(res.body.errors[0].location).toMatch(/^query\.(from|limit)$/)
      }
      expect((await log(id, '?limit=10000')).status).toBe(200)
    })

    it('a running run is not finalized; unknown ids are 404', async () => {
      const slow = (await run('drip')).body.id
      const res = await log(slow)
      expect(res.status).toBe(200)
      expect(res.body.finalized).toBe(false)
      await b.ended('drip', slow)
      expect((await log(slow)).body).toMatchObject({finalized: true, total_lines: 3})
      expectProblem(await log('01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404)
    })

    it('GET …/log/raw: the text, one line after another, as text/plain', async () => {
      const res = await api(b, 'GET', `/api/runs/${id}/log/raw`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      expect(res.text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n')
      const both = await api(b, 'GET', `/api/runs/${mixed}/log/raw`)
      expect(both.text.split('\n').sort()).toEqual(['', 'err-line', 'out-line'])
      expectProblem(await api(b, 'GET', '/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/log/raw'), 404)
    })

    it('GET …/log/stream: line events (id = n), then done {final_line, status, end_reason, exit_code}', async () => {
      const sse = await openSse(b, `/api/runs/${id}/log/stream`)
      expect(sse.status).toBe(200)
      expect(sse.headers.get('content-type')).toBe('text/event-stream')
      await sse.ended
      const events = sse.events()
      expect(events.map((e) => e.event)).toEqual(['line', 'line', 'line', 'line', 'line', 'done'])
      expect(events.slice(0, 5).map((e) => e.id)).toEqual(['0', '1', '2', '3', '4'])
      expect(events.slice(0, 5).map((e) => JSON.parse(e.data))).toEqual([0, 1, 2, 3, 4].map((n) => ({n, ts: expect.any(Number), stream: 'stdout', text: `line ${n + 1}`})))
      expect(JSON.parse(events[5].data)).toEqual({final_line: 4, status: 'ended', end_reason: 'success', exit_code: 0})
    })

    it('replays from `from`, and resumes after Last-Event-ID', async () => {
      const from = await openSse(b, `/api/runs/${id}/log/stream?from=3`)
      await from.ended
      expect(from.events().map((e) => [e.event, e.id])).toEqual([['line', '3'], ['line', '4'], ['done', undefined]])
      const tail = await openSse(b, `/api/runs/${id}/log/stream?from=-1`)
      await tail.ended
      expect(tail.events().map((e) => e.id)).toEqual(['4', undefined])
      const resumed = await openSse(b, `/api/runs/${id}/log/stream`, {'last-event-id': '1'})
      await resumed.ended
      expect(resumed.events().map((e) => [e.event, e.id])).toEqual([['line', '2'], ['line', '3'], ['line', '4'], ['done', undefined]])
      expect(JSON.parse(resumed.events().at(-1)!.data).final_line).toBe(4)
    })

    it('streams live lines as the run writes them, then done', async () => {
      const drip = (await run('drip')).body.id
      const sse = await openSse(b, `/api/runs/${drip}/log/stream`)
      const arrived: Record<string, number> = {}
      await until(() => {
        for (const e of sse.events()) if (e.event === 'line') arrived[JSON.parse(e.data).text] ??= Date.now()
        return 'first' in arrived
      }, 5000, 'the first line')
      expect('third' in arrived).toBe(false)
      await sse.ended
      for (const e of sse.events()) if (e.event === 'line') arrived[JSON.parse(e.data).text] ??= Date.now()
      expect(sse.events().map((e) => e.event)).toEqual(['line', 'line', 'line', 'done'])
      expect(arrived.third - arrived.first).toBeGreaterThanOrEqual(500)
      expect(JSON.parse(sse.events()[3].data)).toEqual({final_line: 2, status: 'ended', end_reason: 'success', exit_code: 0})
    })

    it('a queued run stopped before it started ends its stream with done and no lines', async () => {
      await run('slow')
      const queued = (await run('slow')).body
      expect(queued.status).toBe('pending')
      const sse = await openSse(b, `/api/runs/${queued.id}/log/stream`)
      try {
        await sleep(200)
        expect(sse.events()).toEqual([])
        await api(b, 'POST', `/api/runs/${queued.id}/stop`)
        await sse.ended
        expect(sse.events().map((e) => e.event)).toEqual(['done'])
        expect(JSON.parse(sse.events()[0].data)).toEqual({final_line: -1, status: 'ended', end_reason: 'stopped', exit_code: null})
      } finally {
        sse.close()
        await api(b, 'POST', '/api/tasks/slow/stop')
      }
    })
  })

  describe('GET /api/events', () => {
    it('run.created, run.started and run.ended for a triggered run; service.state for a service', async () => {
      const sse = await openSse(b, '/api/events')
      try {
        expect(sse.status).toBe(200)
        expect(sse.headers.get('content-type')).toBe('text/event-stream')
        const id = (await run('hello', '?wait=true')).body.id
        const mine = () => sse.events().filter((e) => e.event.startsWith('run.') && JSON.parse(e.data).id === id)
        await until(() => mine().length === 3, 5000, 'three run events')
        expect(mine().map((e) => e.event)).toEqual(['run.created', 'run.started', 'run.ended'])
        expect(JSON.parse(mine()[2].data)).toMatchObject({id, task_name: 'hello', status: 'ended', end_reason: 'success'})
        expect(JSON.parse(mine()[0].data)).not.toHaveProperty('v')

        expect((await api(b, 'POST', '/api/tasks/off/start')).status).toBe(200)
        const states = () => sse.events().filter((e) => e.event === 'service.state').map((e) => JSON.parse(e.data))
        await until(() => states().some((s) => s.name === 'off' && s.status === 'running'), 5000, 'a service.state event for off')
        expect(states().find((s) => s.name === 'off')).toEqual({name: 'off', status: expect.any(String), instances: [expect.objectContaining({index: 0, status: expect.any(String)})]})
      } finally {
        sse.close()
        await api(b, 'POST', '/api/tasks/off/stop')
      }
    })
  })

  describe('GET /metrics', () => {
    it('Prometheus text with the documented families', async () => {
      const res = await api(b, 'GET', '/metrics')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      for (const family of [
        'sched_runs_total',
        'sched_active_runs',
        'sched_queue_depth',
        'sched_service_restarts_total',
        'sched_service_fatal_instances',
        'sched_cron_lateness_seconds',
        'sched_log_bytes_total',
        'sched_daemon_memory_bytes',
      ]) {
        expect(res.text).toMatch(new RegExp(`^# HELP ${family} .+\n# TYPE ${family} (counter|gauge|histogram)$`, 'm'))
      }
      expect(res.text).toMatch(/^sched_runs_total\{task="hello",end_reason="success"\} [1-9]\d*$/m)
      expect(res.text).toMatch(/^sched_runs_total\{task="ex",end_reason="failed"\} [1-9]\d*$/m)
      expect(res.text).toMatch(/^sched_active_runs\{task="web"\} 2$/m)
      expect(res.text).toMatch(/^sched_queue_depth\{task="slow"\} 0$/m)
      expect(res.text).toMatch(/^sched_service_fatal_instances\{service="web"\} 0$/m)
      expect(res.text).toMatch(/^sched_log_bytes_total\{task="lines"\} [1-9]\d*$/m)
      expect(res.text).toMatch(/^sched_daemon_memory_bytes\{type="rss"\} [1-9]\d*$/m)
      expect(res.text).toMatch(/^sched_cron_lateness_seconds_bucket\{le="\+Inf"\} \d+$/m)
      expect(res.text.endsWith('\n')).toBe(true)
    })
  })

  describe('problem+json for every error', () => {
    it('404 for an unknown path, 405 with Allow for a wrong method', async () => {
      for (const path of ['/api/nothing', '/api', '/no-such-page', '/api/tasks/hello/explode', '/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/log/more']) {
        expectProblem(await api(b, 'GET', path), 404)
      }
      const cases: [string, string, string][] = [
        ['DELETE', '/api/tasks', 'GET'],
        ['POST', '/api/tasks/hello', 'GET'],
        ['GET', '/api/tasks/hello/run', 'POST'],
        ['PUT', '/api/tasks/hello/stop', 'POST'],
        ['POST', '/api/runs', 'GET'],
        ['GET', '/api/daemon/reload', 'POST'],
        ['POST', '/metrics', 'GET'],
        ['POST', '/healthz', 'GET'],
      ]
      for (const [method, path, allow] of cases) {
        const res = await api(b, method, path)
        expectProblem(res, 405)
        expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow)
      }
    })

    it('400 for a body that is not JSON', async () => {
      const res = await api(b, 'POST', '/api/tasks/hello/run', {rawBody: '{"params": ', headers: {'content-type': 'application/json'}})
      expectProblem(res, 400)
      expect(res.body.errors).toEqual([{location: 'body', message: expect.any(String)}])
    })

    it('413 for a body over 1 MiB, declared or streamed', async () => {
      const before = await count('hello')
      const big = JSON.stringify({params: {}, pad: 'x'.repeat(1024 * 1024)})
      const declared = await api(b, 'POST', '/api/tasks/hello/run', {rawBody: big, headers: {'content-type': 'application/json'}})
      expectProblem(declared, 413)
      const streamed = await new Promise<{status: number; type: string | undefined; body: string}>((resolve, reject) => {
        const url = new URL(b.daemon!.url)
        const req = request({host: url.hostname, port: Number(url.port), method: 'POST', path: '/api/tasks/hello/run', headers: {authorization: `Bearer ${b.daemon!.token}`, 'transfer-encoding': 'chunked'}}, (res) => {
          let body = ''
          res.on('data', (d: Buffer) => (body += d.toString()))
          res.on('end', () => resolve({status: res.statusCode!, type: res.headers['content-type'], body}))
        })
        req.on('error', reject)
        const chunk = 'y'.repeat(64 * 1024)
        for (let i = 0; i < 20; i++) req.write(chunk)
        req.end()
      })
      expect(streamed.status).toBe(413)
      expect(streamed.type).toBe(PROBLEM)
      expect(JSON.parse(streamed.body)).toMatchObject({status: 413, type: 'about:blank'})
      expect(await count('hello')).toBe(before)
    })
  })

  describe('GET /api/daemon and POST /api/daemon/reload', () => {
    it('GET /api/daemon: version, pid, started_at, config_path, state_dir, timezone, config_stale', async () => {
      const res = await api(b, 'GET', '/api/daemon')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        pid: b.daemon!.child.pid,
        started_at: expect.stringMatching(ISO),
        config_path: b.config,
        state_dir: b.state,
        timezone: expect.any(String),
        config_stale: false,
      })
      expect(Date.parse(res.body.started_at)).toBeLessThanOrEqual(Date.now())
    })

    it('config_stale turns true when the file changes and false after a reload: 200 {added, removed, changed}', async () => {
      const original = readFileSync(b.config, 'utf8')
      b.write(original.replace("run = 'echo to-out; exit 7'", "run = 'echo to-out; exit 8'").replace(/\[tasks\.locked\]\nrun = "true"\napi_trigger = false\n/, '') + '\n[tasks.extra]\nrun = "true"\n')
      expect((await api(b, 'GET', '/api/daemon')).body.config_stale).toBe(true)
      const res = await api(b, 'POST', '/api/daemon/reload')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({added: ['extra'], removed: ['locked'], changed: ['ex']})
      expect((await api(b, 'GET', '/api/daemon')).body.config_stale).toBe(false)
      expect((await run('ex', '?wait=true')).body.exit_code).toBe(8)
      const again = await api(b, 'POST', '/api/daemon/reload')
      expect(again.body).toEqual({added: [], removed: [], changed: []})
    })

    it('400 with the errors for an invalid file, and nothing changes', async () => {
      const good = readFileSync(b.config, 'utf8')
      const lines = good.split('\n').length - 1
      b.write(`${good}[tasks.broken]\nrun = "true"\ntimeout = "soon"\n[tasks.ex2]\nrun = "true"\n`)
      try {
        expect((await api(b, 'GET', '/api/daemon')).body.config_stale).toBe(true)
        const res = await api(b, 'POST', '/api/daemon/reload')
        expectProblem(res, 400)
        expect(res.body.detail).toContain('nothing changed')
        expect(res.body.errors).toEqual([{location: 'config.tasks.broken.timeout', message: expect.stringMatching(new RegExp(`^${lines + 3}:1: expected a duration`))}])
        expectProblem(await api(b, 'GET', '/api/tasks/ex2'), 404)
        expect((await api(b, 'GET', '/api/daemon')).body.config_stale).toBe(true)
        b.write(`[daemon]\nshutdown_timeout = "2s"\n${good}`)
        const daemon = await api(b, 'POST', '/api/daemon/reload')
        expectProblem(daemon, 400)
        expect(daemon.body.detail).toContain('restart required')
      } finally {
        b.write(good)
      }
      expect((await api(b, 'GET', '/api/daemon')).body.config_stale).toBe(false)
    })
  })
})
