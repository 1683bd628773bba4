import {request} from 'node:http'
import {Writable} from 'node:stream'
import {describe, expect} from 'vitest'
import {readLogPage} from '../../src/logs/reader.js'
import type {Daemon} from '../support/cli.js'
import {it, until} from '../support/sandbox.js'

/**
 * Issue 8, defect 2: the SSE log stream of a long run. A finished run's 50,000 lines are replayed
 * from the file at the pace of a client that reads slowly (it would pass the 1 MiB unsent limit
 * at once if the replay were pushed), and a client that joins a running log gets the replay, then
 * the live tail, with no gap and no repeat.
 */

interface Received {
  readonly lines: number[]
  readonly done?: {final_line: number; end_reason: string | null}
}

/** Reads the stream through a consumer that waits `pauseMs` before it reads anything, then `delayMs` per 32 KiB. */
function slowStream(daemon: Daemon, path: string, pauseMs: number, delayMs: number): Promise<Received> {
  let unpaid = 0
  return new Promise((resolve, reject) => {
    const lines: number[] = []
    let done: Received['done']
    let text = ''
    const req = request(daemon.url + path, {headers: {authorization: `Bearer ${daemon.token}`}}, (res) => {
      expect(res.statusCode).toBe(200)
      res.pause()
      const sink = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _enc, callback) {
          text += chunk.toString()
          let end: number
          while ((end = text.indexOf('\n\n')) !== -1) {
            const event = text.slice(0, end)
            text = text.slice(end + 2)
            const type = /^event: (.*)$/m.exec(event)?.[1]
            const data = /^data: (.*)$/m.exec(event)?.[1]
            if (type === 'line') lines.push((JSON.parse(data!) as {n: number}).n)
            if (type === 'done') done = JSON.parse(data!) as Received['done']
          }
          unpaid += chunk.length
          if (unpaid < 32 << 10) return callback()
          unpaid = 0
          setTimeout(callback, delayMs)
        },
      })
      setTimeout(() => res.pipe(sink), pauseMs)
      sink.on('finish', () => resolve({lines, done}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

function expectContiguous(lines: readonly number[], count: number): void {
  expect(lines.length).toBe(count)
  const wrong = lines.findIndex((n, i) => n !== i)
  expect(wrong).toBe(-1)
}

describe('SSE log stream of a long run', () => {
  it('replays a finished 50,000-line log to a slow client, paced by its socket, then done', async ({box}) => {
    const b = box.with('[tasks.long]\nrun = "seq 1 50000"\n')
    const daemon = await b.start()
    const id = await b.trigger('long')
    await b.ended('long', id, 20_000)
    const got = await slowStream(daemon, `/api/runs/${id}/log/stream`, 1000, 10)
    expectContiguous(got.lines, 50_000)
    expect(got.done).toMatchObject({final_line: 49_999, end_reason: 'success'})
  }, 60_000)

  it('joins the live tail after the replay with no gap and no repeat', async ({box}) => {
    const b = box.with('[tasks.tail]\nrun = "seq 1 20000; sleep 1.5; seq 20001 40000"\n')
    const daemon = await b.start()
    const id = await b.trigger('tail')
    await until(async () => (await readLogPage(b.layout.logFile('tail', id), {from: -1})).total_lines >= 20_000, 10_000, 'the first half of the log')
    const got = await slowStream(daemon, `/api/runs/${id}/log/stream`, 500, 10)
    expectContiguous(got.lines, 40_000)
    expect(got.done).toMatchObject({final_line: 39_999, end_reason: 'success'})
  }, 60_000)
})
