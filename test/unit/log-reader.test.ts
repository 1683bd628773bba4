import {appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {LogWriter, type LogWriterOptions} from '../../src/logs/writer.js'
import {type LogLine, encodeFrame} from '../../src/logs/format.js'
import {type FollowHandle, followLog, rawLogStream, readLogPage} from '../../src/logs/reader.js'

let dir: string
let path: string
let clock: number
const follows: FollowHandle[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sched-log-reader-'))
  path = join(dir, 'run.log')
  clock = 1_700_000_000_000
})

afterEach(() => {
  for (const handle of follows.splice(0)) handle.close()
  rmSync(dir, {recursive: true, force: true})
})

function openWriter(options: Partial<LogWriterOptions> = {}): Promise<LogWriter> {
  return LogWriter.open({path, maxSize: 100 << 20, onFull: 'drop_old', now: () => clock++, ...options})
}

/** A finished log of `count` numbered stdout lines, written in chunks that cut lines anywhere. */
async function writeLog(count: number, chunk = 37): Promise<void> {
  const writer = await openWriter()
  const text = Buffer.from(Array.from({length: count}, (_, i) => `line ${i}\n`).join(''))
  for (let at = 0; at < text.length; at += chunk) writer.write('stdout', text.subarray(at, at + chunk))
  await writer.close()
}

function texts(lines: readonly LogLine[]): string[] {
  return lines.map((l) => l.text)
}

function numbered(from: number, to: number): string[] {
  return Array.from({length: to - from}, (_, i) => `line ${from + i}`)
}

describe('readLogPage', () => {
  it('reads a missing log as an empty, unfinished page', async () => {
    expect(await readLogPage(path)).toEqual({lines: [], first_available: 0, total_lines: 0, truncated: false, finalized: false})
  })

  it('pages forward with from and limit', async () => {
    await writeLog(3000)
    const page = await readLogPage(path, {from: 100, limit: 5})
    expect(page.lines.map((l) => [l.n, l.text])).toEqual(numbered(100, 105).map((t, i) => [100 + i, t]))
    expect(page).toMatchObject({first_available: 0, total_lines: 3000, truncated: false, finalized: true})
    expect(texts((await readLogPage(path, {from: 2998})).lines)).toEqual(numbered(2998, 3000))
    expect((await readLogPage(path, {from: 5000})).lines).toEqual([])
  })

  it('counts from the end with a negative from, by default the last 1000 lines', async () => {
    await writeLog(3000)
    expect(texts((await readLogPage(path, {from: -3})).lines)).toEqual(numbered(2997, 3000))
    expect(texts((await readLogPage(path, {from: -10, limit: 4})).lines)).toEqual(numbered(2990, 2994))
    expect(texts((await readLogPage(path, {from: -5000, limit: 2})).lines)).toEqual(numbered(0, 2))
    const last = await readLogPage(path)
    expect(last.lines.map((l) => l.n)).toEqual(Array.from({length: 1000}, (_, i) => 2000 + i))
    expect(last.total_lines).toBe(3000)
  })

  it('clamps limit to 10000', async () => {
    await writeLog(12_000, 4096)
    const page = await readLogPage(path, {from: 0, limit: 50_000})
    expect(page.lines.length).toBe(10_000)
    expect(page.lines[9999]).toMatchObject({n: 9999, text: 'line 9999'})
    expect((await readLogPage(path, {from: 0, limit: 0})).lines).toEqual([])
  })

  it('finds the window at the end of a large log with interleaved partial lines', async () => {
    // Over 1 MiB, so the reader resumes from a checkpoint instead of decoding from the start.
    const writer = await openWriter()
    const expected: string[] = []
    for (let i = 0; i < 40_000; i++) {
      writer.write('stdout', Buffer.from(`out ${i} ${'x'.repeat(i % 50)}`))
      if (i % 7 === 0) writer.write('stderr', Buffer.from(`err ${i}\nerr-part `))
      if (i % 7 === 0) expected.push(i === 0 ? 'err 0' : `err-part err ${i}`)
      writer.write('stdout', Buffer.from('\n'))
      expected.push(`out ${i} ${'x'.repeat(i % 50)}`)
    }
    await writer.close()
    expected.push('err-part ')
    expect(readFileSync(path).length).toBeGreaterThan(2 << 20)
    for (const [from, limit] of [
      [-1000, 1000],
      [-7, 3],
      [-30_000, 5],
    ]) {
      const page = await readLogPage(path, {from, limit})
      const start = expected.length + from
      expect(page.lines.map((l) => [l.n, l.text])).toEqual(expected.slice(start, start + limit).map((t, i) => [start + i, t]))
      expect(page.total_lines).toBe(expected.length)
    }
  })

  it('hides partial lines of a live log until it is finalized', async () => {
    const writer = await openWriter()
    writer.write('stdout', Buffer.from('done\nhalf a li'))
    writer.write('stderr', Buffer.from('err\n'))
    await waitFor(async () => (await readLogPage(path)).total_lines === 2)
    expect(await readLogPage(path)).toMatchObject({lines: [{n: 0, text: 'done'}, {n: 1, text: 'err'}], finalized: false})
    await writer.close()
    expect(await readLogPage(path)).toMatchObject({lines: [{n: 0}, {n: 1}, {n: 2, stream: 'stdout', text: 'half a li'}], total_lines: 3, finalized: true})
  })

  it('reads up to a truncated last frame (a crash mid-write) without throwing', async () => {
    await writeLog(10)
    const size = readFileSync(path).length
    // Drop the final frame and half of the last output frame.
    truncateSync(path, size - 32 - 20)
    const page = await readLogPage(path, {from: 0})
    expect(page.finalized).toBe(false)
    expect(texts(page.lines).length).toBeLessThan(10)
    expect(texts(page.lines)).toEqual(numbered(0, page.lines.length))
    // Garbage after the frames stops the reader the same way.
    appendFileSync(path, 'not a frame')
    expect((await readLogPage(path, {from: 0})).lines).toEqual(page.lines)
  })

  it('reports first_available and truncated after drop_old rotations', async () => {
    const writer = await openWriter({maxSize: 300})
    for (let i = 0; i < 100; i++) writer.write('stdout', Buffer.from(`line ${i}\n`))
    await writer.close()
    const page = await readLogPage(path, {from: 0})
    expect(page.first_available).toBeGreaterThan(0)
    expect(page.truncated).toBe(true)
    expect(page.lines[0].n).toBe(page.first_available)
    expect(page.lines.at(-1)).toMatchObject({n: page.total_lines - 1, text: 'line 99'})
    expect((await readLogPage(path, {from: -2})).lines.map((l) => l.n)).toEqual([page.total_lines - 2, page.total_lines - 1])
  })
})

describe('rawLogStream', () => {
  it('streams every line, stdout, stderr and system, in line order', async () => {
    const writer = await openWriter()
    writer.write('stdout', Buffer.from('one\ntw'))
    writer.write('stderr', Buffer.from('err\r\n'))
    writer.system('[sched] note')
    writer.write('stdout', Buffer.from('o\nunfinished'))
    await writer.close()
    let text = ''
    for await (const chunk of rawLogStream(path)) text += chunk
    expect(text).toBe('one\nerr\n[sched] note\ntwo\nunfinished\n')
  })

  it('streams a large log chunk by chunk', async () => {
    await writeLog(100_000, 8192)
    let text = ''
    let chunks = 0
    for await (const chunk of rawLogStream(path)) {
      text += chunk
      chunks++
    }
    expect(chunks).toBeGreaterThan(3)
    expect(text).toBe(`${numbered(0, 100_000).join('\n')}\n`)
  })

  it('is empty for a missing log', async () => {
    const chunks: unknown[] = []
    for await (const chunk of rawLogStream(path)) chunks.push(chunk)
    expect(chunks).toEqual([])
  })
})

describe('followLog', () => {
  function follow(fromLine: number): {lines: LogLine[]; ended: () => number; handle: FollowHandle} {
    const lines: LogLine[] = []
    let ends = 0
    const handle = followLog(
      path,
      fromLine,
      (line) => lines.push(line),
      () => ends++,
    )
    follows.push(handle)
    return {lines, ended: () => ends, handle}
  }

  it('delivers existing lines, then appended ones, then ends once after close', async () => {
    const writer = await openWriter()
    writer.write('stdout', Buffer.from('a\nb\n'))
    const f = follow(0)
    await waitFor(() => f.lines.length === 2)
    writer.write('stdout', Buffer.from('c\npartial'))
    writer.write('stderr', Buffer.from('e\n'))
    await waitFor(() => f.lines.length === 4)
    expect(f.lines.map((l) => [l.n, l.stream, l.text])).toEqual([
      [0, 'stdout', 'a'],
      [1, 'stdout', 'b'],
      [2, 'stdout', 'c'],
      [3, 'stderr', 'e'],
    ])
    expect(f.ended()).toBe(0)
    await writer.close()
    await waitFor(() => f.ended() === 1)
    expect(f.lines.at(-1)).toMatchObject({n: 4, text: 'partial'})
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(f.ended()).toBe(1)
  })

  it('starts from the end with a negative fromLine', async () => {
    const writer = await openWriter()
    writer.write('stdout', Buffer.from(`${numbered(0, 50).join('\n')}\n`))
    await waitFor(async () => (await readLogPage(path)).total_lines === 50)
    const f = follow(-3)
    await waitFor(() => f.lines.length === 3)
    writer.write('stdout', Buffer.from('line 50\n'))
    await writer.close()
    await waitFor(() => f.ended() === 1)
    expect(f.lines.map((l) => [l.n, l.text])).toEqual(numbered(47, 51).map((t, i) => [47 + i, t]))
  })

  it('waits for a log that does not exist yet', async () => {
    const f = follow(0)
    await new Promise((resolve) => setTimeout(resolve, 30))
    const writer = await openWriter()
    writer.write('stdout', Buffer.from('hello\n'))
    await writer.close()
    await waitFor(() => f.ended() === 1)
    expect(texts(f.lines)).toEqual(['hello'])
  })

  it('follows a drop_old rotation without losing a line when it keeps up', async () => {
    const writer = await openWriter({maxSize: 300})
    const f = follow(0)
    for (let i = 0; i < 60; i++) {
      writer.write('stdout', Buffer.from(`line ${i}\n`))
      await waitFor(() => f.lines.some((l) => l.text === `line ${i}`))
    }
    await writer.close()
    await waitFor(() => f.ended() === 1)
    const page = await readLogPage(path, {from: 0})
    expect(page.first_available).toBeGreaterThan(0)
    expect(f.lines.map((l) => l.n)).toEqual(Array.from({length: page.total_lines}, (_, i) => i))
    expect(texts(f.lines.filter((l) => l.stream === 'stdout'))).toEqual(numbered(0, 60))
    expect(f.lines.slice(page.first_available)).toEqual(page.lines)
  })

  it('skips ahead to the new base when whole segments rotate away unread', async () => {
    const segment = (base: number, from: number, to: number, final = false): Buffer =>
      Buffer.concat([
        encodeFrame('m', 1, `{"base":${base}}`),
        encodeFrame('o', 2, numbered(from, to).map((t) => `${t}\n`).join('')),
        ...(final ? [encodeFrame('m', 3, '{"final":true}')] : []),
      ])
    writeFileSync(path, segment(0, 0, 3))
    const f = follow(0)
    await waitFor(() => f.lines.length === 3)
    // Three rotations while the follower sleeps: B is replaced by C before anyone reads it.
    renameSync(path, `${path}.1`)
    writeFileSync(path, segment(3, 3, 6))
    renameSync(path, `${path}.1`)
    writeFileSync(path, segment(6, 6, 9))
    renameSync(path, `${path}.1`)
    writeFileSync(path, segment(9, 9, 12, true))
    await waitFor(() => f.ended() === 1)
    expect(f.lines.map((l) => l.n)).toEqual([0, 1, 2, 6, 7, 8, 9, 10, 11])
    expect(texts(f.lines)).toEqual([...numbered(0, 3), ...numbered(6, 12)])
  })

  it('stays in order and ends when rotations happen while it reads', async () => {
    const writer = await openWriter({maxSize: 300})
    const f = follow(0)
    for (let i = 0; i < 500; i++) writer.write('stdout', Buffer.from(`line ${i}\n`))
    await writer.close()
    await waitFor(() => f.ended() === 1)
    const ns = f.lines.map((l) => l.n)
    for (let i = 1; i < ns.length; i++) expect(ns[i]).toBeGreaterThan(ns[i - 1])
    // Every line still on disk was delivered. The page's first stdout line may have lost its
    // head with an older segment that the follower did read in time, hence endsWith.
    const page = await readLogPage(path, {from: 0})
    const delivered = new Map(f.lines.map((l) => [l.n, l]))
    for (const line of page.lines) {
      const seen = delivered.get(line.n)
      expect(seen, `line ${line.n}`).toMatchObject({ts: line.ts, stream: line.stream})
      expect(seen!.text.endsWith(line.text)).toBe(true)
    }
    expect(page.lines.filter((l) => delivered.get(l.n)!.text !== l.text).length).toBeLessThanOrEqual(1)
    expect(f.lines.at(-1)?.text).toBe('line 499')
  })

  it('stops delivering after close', async () => {
    const writer = await openWriter()
    const f = follow(0)
    writer.write('stdout', Buffer.from('one\n'))
    await waitFor(() => f.lines.length === 1)
    f.handle.close()
    writer.write('stdout', Buffer.from('two\n'))
    await writer.close()
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(texts(f.lines)).toEqual(['one'])
    expect(f.ended()).toBe(0)
  })

  it('reads frames written by hand, byte by byte', async () => {
    writeFileSync(path, encodeFrame('m', 1, '{"base":0}'))
    const f = follow(0)
    const rest = Buffer.concat([encodeFrame('o', 2, 'slow\n'), encodeFrame('m', 3, '{"final":true}')])
    for (const byte of rest) {
      appendFileSync(path, Buffer.from([byte]))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor(() => f.ended() === 1)
    expect(f.lines).toEqual([{n: 0, ts: 2, stream: 'stdout', text: 'slow'}])
  })
})

async function waitFor(condition: () => boolean | Promise<boolean>, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
