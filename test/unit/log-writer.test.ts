import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {LogOnFull} from '../../src/core/types.js'
import {LogWriter, type LogWriterOptions} from '../../src/logs/writer.js'
import {ROTATED_MARKER, droppedMarker, encodeFrame, fullMarker} from '../../src/logs/format.js'
import {readLogPage} from '../../src/logs/reader.js'

const TS = 1_700_000_000_000
const meta = (payload: string): Buffer => encodeFrame('m', TS, payload)
const out = (payload: string): Buffer => encodeFrame('o', TS, payload)
const err = (payload: string): Buffer => encodeFrame('e', TS, payload)
const sys = (payload: string): Buffer => encodeFrame('s', TS, `${payload}\n`)

let dir: string
let path: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sched-log-writer-'))
  path = join(dir, 'run.log')
})

afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

function openWriter(options: Partial<LogWriterOptions> = {}): Promise<LogWriter> {
  return LogWriter.open({path, maxSize: 1 << 20, onFull: 'drop_new', now: () => TS, ...options})
}

function lines(count: number, first = 0): string {
  return Array.from({length: count}, (_, i) => `line-${first + i}\n`).join('')
}

/** A deterministic pseudo-random source, so every run of a test sees the same chunking. */
function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31
    return s / 2 ** 31
  }
}

describe('LogWriter', () => {
  it('creates the file 0600 and frames each chunk as it arrives', async () => {
    const writer = await openWriter()
    const frames: [string, number, string][] = []
    writer.on('frame', (stream: string, ts: number, payload: Buffer) => frames.push([stream, ts, payload.toString()]))
    expect(writer.write('stdout', Buffer.from('hello\nwor'))).toBe(true)
    writer.write('stderr', Buffer.from('oops\r\n'))
    writer.write('stdout', Buffer.from(''))
    writer.write('stdout', Buffer.from('ld\n'))
    writer.system('[sched] timeout after 5s; sending SIGTERM')
    await writer.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path)).toEqual(
      Buffer.concat([
        meta('{"base":0}'),
        out('hello\nwor'),
        err('oops\r\n'),
        out('ld\n'),
        sys('[sched] timeout after 5s; sending SIGTERM'),
        meta('{"final":true}'),
      ]),
    )
    expect(frames).toEqual([
      ['stdout', TS, 'hello\nwor'],
      ['stderr', TS, 'oops\r\n'],
      ['stdout', TS, 'ld\n'],
      ['system', TS, '[sched] timeout after 5s; sending SIGTERM\n'],
    ])
    expect(writer.bytes).toBe(18)
    expect(writer.error).toBeUndefined()
  })

  it('ignores writes after close, and close twice is the same close', async () => {
    const writer = await openWriter()
    const first = writer.close()
    expect(writer.write('stdout', Buffer.from('late\n'))).toBe(true)
    writer.system('late')
    await Promise.all([first, writer.close()])
    expect(readFileSync(path)).toEqual(Buffer.concat([meta('{"base":0}'), meta('{"final":true}')]))
  })

  it('asks the source to pause past ~1 MiB queued and emits drain once written', async () => {
    const writer = await openWriter({maxSize: 100 << 20})
    const chunk = Buffer.alloc(64 << 10, 'x')
    let accepted = 0
    while (writer.write('stdout', chunk)) accepted++
    expect(accepted).toBeGreaterThanOrEqual(14)
    expect(accepted).toBeLessThanOrEqual(16)
    await new Promise((resolve) => writer.once('drain', resolve))
    expect(writer.write('stdout', chunk)).toBe(true)
    await writer.close()
    expect(writer.bytes).toBe((accepted + 2) * chunk.length)
  })

  describe('log_on_full = "drop_new"', () => {
    it('fills the file to the cap, splits the last chunk, writes one marker and counts what it drops', async () => {
      const writer = await openWriter({maxSize: 200})
      const chunk = `${'x'.repeat(29)}\n`
      for (let i = 0; i < 10; i++) expect(writer.write('stdout', Buffer.from(chunk))).toBe(true)
      writer.write('stderr', Buffer.from('more\n'))
      await writer.close()
      // 28 (meta) + 2 × 48 + 44 (26 bytes of the third chunk) + 32 (final frame) = 200: the cap is met exactly.
      const marker = sys(fullMarker(200, 'drop_new'))
      const dropped = sys(droppedMarker(4 + 7 * 30 + 5))
      expect(readFileSync(path)).toEqual(
        Buffer.concat([meta('{"base":0}'), out(chunk), out(chunk), out(chunk.slice(0, 26)), marker, dropped, meta('{"final":true}')]),
      )
      expect(statSync(path).size).toBe(200 + marker.length + dropped.length)
      expect(writer.bytes).toBe(86)
      expect(fullMarker(200, 'drop_new')).toBe('[sched] log reached log_max_size (200 bytes); further output is dropped (log_on_full = "drop_new")')

      const page = await readLogPage(path, {from: 0})
      expect(page.lines.map((l) => [l.n, l.stream, l.text])).toEqual([
        [0, 'stdout', 'x'.repeat(29)],
        [1, 'stdout', 'x'.repeat(29)],
        [2, 'system', fullMarker(200, 'drop_new')],
        [3, 'system', '[sched] 219 bytes of output dropped'],
        [4, 'stdout', 'x'.repeat(26)],
      ])
      expect(page).toMatchObject({first_available: 0, total_lines: 5, truncated: true, finalized: true})
    })

    it('writes no drop line when nothing was dropped', async () => {
      const writer = await openWriter({maxSize: 200})
      writer.write('stdout', Buffer.from('small\n'))
      await writer.close()
      expect(readFileSync(path)).toEqual(Buffer.concat([meta('{"base":0}'), out('small\n'), meta('{"final":true}')]))
      expect((await readLogPage(path)).truncated).toBe(false)
    })

    it('still records sched lines after the cap', async () => {
      const writer = await openWriter({maxSize: 200})
      writer.write('stdout', Buffer.alloc(500, 'y'))
      writer.system('[sched] exited with code 0')
      await writer.close()
      const texts = (await readLogPage(path)).lines.map((l) => l.text)
      expect(texts).toEqual([fullMarker(200, 'drop_new'), '[sched] exited with code 0', droppedMarker(500 - 121), 'y'.repeat(121)])
    })
  })

  describe('log_on_full = "kill_task"', () => {
    it('calls onOverflow once, writes its marker and discards the rest', async () => {
      let overflows = 0
      const writer = await openWriter({maxSize: 200, onFull: 'kill_task', onOverflow: () => overflows++})
      writer.write('stdout', Buffer.from(lines(5)))
      expect(overflows).toBe(0)
      writer.write('stdout', Buffer.alloc(300, 'z'))
      for (let i = 0; i < 20; i++) expect(writer.write('stderr', Buffer.alloc(100, 'w'))).toBe(true)
      await new Promise((resolve) => setImmediate(resolve))
      expect(overflows).toBe(1)
      await writer.close()
      expect(overflows).toBe(1)
      const marker = fullMarker(200, 'kill_task')
      expect(marker).toBe('[sched] log reached log_max_size (200 bytes); stopping the run (log_on_full = "kill_task")')
      const kept = 200 - 28 - 32 - out(lines(5)).length - 18
      expect(readFileSync(path)).toEqual(
        Buffer.concat([
          meta('{"base":0}'),
          out(lines(5)),
          out('z'.repeat(kept)),
          sys(marker),
          sys(droppedMarker(300 - kept + 2000)),
          meta('{"final":true}'),
        ]),
      )
    })
  })

  describe('log_on_full = "drop_old"', () => {
    const cap = 400

    /** Writes `total` bytes of numbered lines in pseudo-random chunks, with a sched line now and then. */
    async function fill(total: number, seed: number): Promise<{writer: LogWriter; lastLine: number; endsWithPartial: boolean}> {
      const writer = await openWriter({maxSize: cap, onFull: 'drop_old'})
      const rand = random(seed)
      const text = Buffer.from(lines(Math.ceil(total / 6)))
      let at = 0
      while (at < total) {
        const size = Math.min(total - at, 1 + Math.floor(rand() * (rand() < 0.1 ? 3 * cap : 60)))
        writer.write('stdout', text.subarray(at, at + size))
        at += size
        if (rand() < 0.05) writer.system('[sched] note')
      }
      await writer.close()
      const written = text.subarray(0, total).toString()
      return {writer, lastLine: written.split('\n').length - 2, endsWithPartial: !written.endsWith('\n')}
    }

    it.each([0, 1, 50, 137, 399, 400, 1000, 5000, 40_000])('keeps at most 2 × cap on disk, numbering lines without gaps (%i bytes of output)', async (total) => {
      const {lastLine, endsWithPartial} = await fill(total, total + 1)
      const current = statSync(path).size
      const older = existsSync(`${path}.1`) ? statSync(`${path}.1`).size : 0
      expect(current).toBeLessThanOrEqual(cap)
      expect(older).toBeLessThanOrEqual(cap)
      if (total >= 1000) expect(older).toBeGreaterThan(0)

      const page = await readLogPage(path, {from: 0, limit: 10_000})
      expect(page.finalized).toBe(true)
      expect(page.lines.map((l) => l.n)).toEqual(Array.from({length: page.total_lines - page.first_available}, (_, i) => page.first_available + i))
      expect(page.truncated).toBe(page.first_available > 0)
      // Stdout lines are consecutive lines of the output, up to its last complete line — except
      // the first (it may have begun in a dropped segment) and a partial line flushed at close.
      const texts = page.lines.filter((l) => l.stream === 'stdout').map((l) => l.text)
      const whole = texts.slice(1, endsWithPartial ? -1 : undefined)
      for (const text of whole) expect(text).toMatch(/^line-\d+$/)
      for (let i = 1; i < whole.length; i++) expect(Number(whole[i].slice(5))).toBe(Number(whole[i - 1].slice(5)) + 1)
      if (lastLine >= 1) expect(texts).toContain(`line-${lastLine}`)
    })

    it('marks a rotation that lost output, and only such rotations', async () => {
      const writer = await openWriter({maxSize: cap, onFull: 'drop_old'})
      // 28 (meta) + 32 (final reserve) leave 340 bytes: one 300-byte frame, then 22 bytes split off the next.
      const a = 'a'.repeat(281)
      writer.write('stdout', Buffer.from(a))
      writer.write('stdout', Buffer.from(`${'b'.repeat(99)}\n`))
      await waitFor(() => sizeOf(`${path}.1`) === cap - 32 && sizeOf(path) === 28 + 96)
      expect(readFileSync(`${path}.1`)).toEqual(Buffer.concat([meta('{"base":0}'), out(a), out('b'.repeat(22))]))
      expect(readFileSync(`${path}.1`).length).toBe(cap - 32)
      // Nothing lost yet: the first rotation has no marker and the page is whole.
      expect(readFileSync(path)).toEqual(Buffer.concat([meta('{"base":0}'), out(`${'b'.repeat(77)}\n`)]))
      expect(await readLogPage(path)).toMatchObject({lines: [{n: 0, text: a + 'b'.repeat(99)}], first_available: 0, truncated: false})

      writer.write('stdout', Buffer.alloc(400, 'c'))
      await writer.close()
      expect(readFileSync(`${path}.1`)).toEqual(Buffer.concat([meta('{"base":0}'), out(`${'b'.repeat(77)}\n`), out('c'.repeat(225))]))
      expect(readFileSync(path)).toEqual(Buffer.concat([meta('{"base":1}'), sys(ROTATED_MARKER), out('c'.repeat(175)), meta('{"final":true}')]))
      expect(ROTATED_MARKER).toBe('[sched] older output dropped to keep the log under 2 × log_max_size (log_on_full = "drop_old")')
      const page = await readLogPage(path, {from: 0})
      expect(page.lines.map((l) => [l.n, l.stream, l.text])).toEqual([
        [0, 'stdout', 'b'.repeat(77)],
        [1, 'system', ROTATED_MARKER],
        [2, 'stdout', 'c'.repeat(400)],
      ])
      // Line 0 is still there, but its head was dropped.
      expect(page.first_available).toBe(0)
      expect(page.truncated).toBe(true)
    })

  })

  describe('secrets', () => {
    it('masks a secret even when it arrives split across chunks', async () => {
      const writer = await openWriter({secrets: ['hunter22', 's3cr3t-token']})
      writer.write('stdout', Buffer.from('password=hun'))
      writer.write('stdout', Buffer.from('ter22 ok\ntoken: s3cr3t'))
      writer.write('stderr', Buffer.from('s3cr3t-to'))
      writer.write('stdout', Buffer.from('-token\n'))
      writer.write('stderr', Buffer.from('ken and hunter22\n'))
      await writer.close()
      const page = await readLogPage(path, {from: 0})
      expect(page.lines.map((l) => l.text)).toEqual(['password=[redacted] ok', 'token: [redacted]', '[redacted] and [redacted]'])
      expect(readFileSync(path).includes('hunter22')).toBe(false)
      expect(readFileSync(path).includes('s3cr3t')).toBe(false)
      expect(writer.bytes).toBe(Buffer.byteLength('password=[redacted] ok\ntoken: [redacted]\n[redacted] and [redacted]\n'))
    })

    it('leaves values shorter than 4 characters alone, and masks each line of a multi-line value', async () => {
      const writer = await openWriter({secrets: ['abc', 'x', '-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----']})
      writer.write('stdout', Buffer.from('abc x\n-----BEGIN KEY-----\nMIIEvQ'))
      writer.write('stdout', Buffer.from('IBADANBg\n'))
      await writer.close()
      expect((await readLogPage(path)).lines.map((l) => l.text)).toEqual(['abc x', '[redacted]', '[redacted]'])
    })

    it('flushes a long line without newline at 64 KiB, still catching a secret across the cut', async () => {
      const writer = await openWriter({secrets: ['SECRET1234']})
      writer.write('stdout', Buffer.from(`${'a'.repeat(65_540)}SECR`))
      await waitFor(() => statSync(path).size > 65_000)
      writer.write('stdout', Buffer.from('ET1234 tail'))
      await writer.close()
      const page = await readLogPage(path)
      expect(page.lines.map((l) => l.text)).toEqual([`${'a'.repeat(65_540)}[redacted] tail`])
      expect(readFileSync(path).includes('SECR')).toBe(false)
    })

    it('holds a partial line until its newline, and flushes it at close', async () => {
      const writer = await openWriter({secrets: ['hunter22']})
      writer.write('stdout', Buffer.from('first\nno newline yet'))
      await waitFor(() => readFileSync(path).includes('first'))
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(readFileSync(path).includes('no newline')).toBe(false)
      await writer.close()
      expect((await readLogPage(path)).lines.map((l) => l.text)).toEqual(['first', 'no newline yet'])
    })
  })

  describe('disk errors', () => {
    it('records ENOSPC, never throws, and keeps draining the process', async () => {
      symlinkSync('/dev/full', path)
      const writer = await openWriter({onFull: 'drop_old' satisfies LogOnFull, maxSize: 1000})
      expect(() => writer.write('stdout', Buffer.from('hello\n'))).not.toThrow()
      await waitFor(() => writer.error !== undefined)
      expect(writer.error).toBe('log write failed: ENOSPC: no space left on device')
      for (let i = 0; i < 50; i++) expect(writer.write('stdout', Buffer.alloc(100_000, 'x'))).toBe(true)
      writer.system('[sched] still here')
      await expect(writer.close()).resolves.toBeUndefined()
      expect(writer.bytes).toBe(0)
    })

    it('records an error when the log directory disappears mid-run', async () => {
      const writer = await openWriter({maxSize: 300, onFull: 'drop_old'})
      writer.write('stdout', Buffer.from('before\n'))
      await waitFor(() => statSync(path).size > 28)
      rmSync(dir, {recursive: true, force: true})
      // The next rotation must rename inside the vanished directory.
      for (let i = 0; i < 10; i++) writer.write('stdout', Buffer.alloc(200, 'y'))
      await writer.close()
      expect(writer.error).toMatch(/^log write failed: ENOENT/)
    })
  })
})

/** -1 while the file does not exist, as between the rename and the re-creation of a rotation. */
function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return -1
  }
}

async function waitFor(condition: () => boolean, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
