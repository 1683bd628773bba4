import {describe, expect, it} from 'vitest'
import {
  FrameDecoder,
  LineAssembler,
  type LogLine,
  TAG_META,
  TAG_STDERR,
  TAG_STDOUT,
  TAG_SYSTEM,
  countNewlines,
  encodeFrame,
  fitPayload,
  frameHeader,
  fullMarker,
  headerLength,
} from '../../src/logs/format.js'

interface Decoded {
  tag: string
  ts: number
  payload: string
}

/** Decodes `bytes` fed in the given chunk sizes (cycled). */
function decode(bytes: Buffer, sizes: number[] = [bytes.length]): {frames: Decoded[]; decoder: FrameDecoder; positions: number[]} {
  const decoder = new FrameDecoder()
  const frames: Decoded[] = []
  const positions: number[] = []
  let i = 0
  for (let k = 0; i < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length])
    decoder.push(bytes.subarray(i, i + size), (tag, ts, payload) => {
      frames.push({tag: String.fromCharCode(tag), ts, payload: payload.toString('latin1')})
      positions.push(decoder.position)
    })
    i += size
  }
  return {frames, decoder, positions}
}

const FRAMES: Decoded[] = [
  {tag: 'm', ts: 1_700_000_000_000, payload: '{"base":0}'},
  {tag: 'o', ts: 1_700_000_000_001, payload: 'hello\nwor'},
  {tag: 'e', ts: 1_700_000_000_002, payload: 'oops\r\n'},
  {tag: 'o', ts: 1_700_000_000_003, payload: ''},
  {tag: 's', ts: 9, payload: '[sched] started\n'},
  {tag: 'o', ts: 1_700_000_000_004, payload: 'x'.repeat(300)},
  {tag: 'm', ts: 1_700_000_000_005, payload: '{"final":true}'},
]
const ENCODED = Buffer.concat(FRAMES.map((f) => encodeFrame(f.tag as 'o', f.ts, Buffer.from(f.payload, 'latin1'))))
const BOUNDARIES = FRAMES.map((_, k) => Buffer.concat(FRAMES.slice(0, k + 1).map((f) => encodeFrame(f.tag as 'o', f.ts, Buffer.from(f.payload, 'latin1')))).length)

describe('frame encoding', () => {
  it('writes the header as <tag><ts> <len>\\n then the payload', () => {
    expect(encodeFrame('o', 1_700_000_000_123, 'héllo\n').toString('latin1')).toBe(`o1700000000123 7\n${Buffer.from('héllo\n').toString('latin1')}`)
    expect(frameHeader('s', 5, 12).toString()).toBe('s5 12\n')
    expect(headerLength(1_700_000_000_000, 12)).toBe(frameHeader('o', 1_700_000_000_000, 12).length)
  })

  it('round-trips in one chunk, reporting the offset after each frame', () => {
    const {frames, decoder, positions} = decode(ENCODED)
    expect(frames).toEqual(FRAMES)
    expect(positions).toEqual(BOUNDARIES)
    expect(decoder.pending).toBe(0)
    expect(decoder.error).toBeUndefined()
  })

  it.each([[[1]], [[2]], [[3, 7]], [[5, 1, 17]], [[64]], [[16]]])('round-trips fed in chunks of %j (headers and payloads split anywhere)', (sizes) => {
    const {frames, positions} = decode(ENCODED, sizes)
    expect(frames).toEqual(FRAMES)
    expect(positions).toEqual(BOUNDARIES)
  })

  it('round-trips with every possible two-chunk split', () => {
    for (let cut = 1; cut < ENCODED.length; cut++) {
      const {frames} = decode(ENCODED, [cut, ENCODED.length])
      expect(frames, `cut at ${cut}`).toEqual(FRAMES)
    }
  })

  it('stops quietly at a truncated last frame, wherever the cut is', () => {
    for (let cut = 0; cut <= ENCODED.length; cut++) {
      const complete = BOUNDARIES.filter((b) => b <= cut).length
      for (const sizes of [[cut], [1], [7]]) {
        const {frames, decoder} = decode(ENCODED.subarray(0, cut), sizes)
        expect(frames, `cut at ${cut}`).toEqual(FRAMES.slice(0, complete))
        expect(decoder.error).toBeUndefined()
        expect(decoder.position).toBe(complete === 0 ? 0 : BOUNDARIES[complete - 1])
        expect(decoder.pending).toBe(cut - decoder.position)
      }
    }
  })

  it('resumes a truncated frame when the rest arrives (a live file)', () => {
    const decoder = new FrameDecoder()
    const seen: string[] = []
    const sink = (_tag: number, _ts: number, payload: Buffer): void => {
      seen.push(payload.toString())
    }
    const frame = encodeFrame('o', 1, 'abcdef')
    decoder.push(frame.subarray(0, 2), sink)
    decoder.push(frame.subarray(2, 7), sink)
    expect(seen).toEqual([])
    expect(decoder.pending).toBe(7)
    decoder.push(frame.subarray(7), sink)
    expect(seen).toEqual(['abcdef'])
  })

  it.each([
    ['an unknown tag', 'x1 2\nab'],
    ['a non-digit time', 'o1a 2\nab'],
    ['a missing length', 'o1 \nab'],
    ['a header with no newline in sight', `o${'1'.repeat(40)}`],
  ])('reports %s as corrupt instead of guessing, keeping the frames before it', (_what, garbage) => {
    const good = encodeFrame('o', 1, 'ok\n')
    const {frames, decoder} = decode(Buffer.concat([good, Buffer.from(garbage), good]))
    expect(frames).toEqual([{tag: 'o', ts: 1, payload: 'ok\n'}])
    expect(decoder.error).toMatch(/at byte 8$/)
    expect(decoder.push(good, () => {})).toBe(false)
  })

  it('fits the largest payload whose frame fills the room, never more', () => {
    for (const ts of [7, 1_700_000_000_000]) {
      for (let room = 0; room < 400; room++) {
        const k = fitPayload(room, ts)
        if (k > 0) expect(headerLength(ts, k) + k).toBeLessThanOrEqual(room)
        expect(headerLength(ts, k + 1) + k + 1).toBeGreaterThan(room)
      }
    }
    // 10 payload bytes need a two-digit length: 28 bytes, so 27 bytes of room hold only 9.
    expect(fitPayload(27, 1_700_000_000_000)).toBe(9)
    expect(fitPayload(28, 1_700_000_000_000)).toBe(10)
  })

  it('counts newlines', () => {
    expect(countNewlines(Buffer.from(''))).toBe(0)
    expect(countNewlines(Buffer.from('a\nb\n\nc'))).toBe(3)
  })
})

type Frame = [tag: 'o' | 'e' | 's' | 'm', ts: number, payload: string | Buffer]

function assemble(frames: Frame[], options: {from?: number; to?: number} = {}): {lines: LogLine[]; assembler: LineAssembler} {
  const lines: LogLine[] = []
  const assembler = new LineAssembler({...options, onLine: (line) => lines.push(line)})
  const tags = {o: TAG_STDOUT, e: TAG_STDERR, s: TAG_SYSTEM, m: TAG_META}
  for (const [tag, ts, payload] of frames) assembler.frame(tags[tag], ts, typeof payload === 'string' ? Buffer.from(payload) : payload)
  return {lines, assembler}
}

describe('line assembly', () => {
  it('keeps one partial line per stream and numbers lines in completion order', () => {
    const {lines, assembler} = assemble([
      ['m', 100, '{"base":0}'],
      ['o', 101, 'out one\nout tw'],
      ['e', 102, 'err on'],
      ['e', 103, 'e\nerr two\n'],
      ['s', 104, '[sched] note\n'],
      ['o', 105, 'o\nout three'],
    ])
    expect(lines).toEqual([
      {n: 0, ts: 101, stream: 'stdout', text: 'out one'},
      {n: 1, ts: 102, stream: 'stderr', text: 'err one'},
      {n: 2, ts: 103, stream: 'stderr', text: 'err two'},
      {n: 3, ts: 104, stream: 'system', text: '[sched] note'},
      {n: 4, ts: 101, stream: 'stdout', text: 'out two'},
    ])
    // "out three" is still being written: not a line until the log is final.
    expect(assembler.next).toBe(5)
    expect(assembler.finalized).toBe(false)
    expect(assembler.snapshot(1000)?.partials.map((p) => p.length)).toEqual([9, 0, 0])
    expect(assembler.snapshot(8)).toBeUndefined()
  })

  it('resumes from a snapshot taken at any frame boundary exactly as if it had read on', () => {
    const frames: Frame[] = [
      ['m', 1, '{"base":0}'],
      ['o', 2, 'a1\na'],
      ['e', 3, 'e1'],
      ['o', 4, '2\na3'],
      ['s', 5, '[sched] s\n'],
      ['e', 6, '\ne2\n'],
      ['o', 7, '\n'],
      ['m', 8, '{"final":true}'],
    ]
    const whole = assemble(frames).lines
    expect(whole.map((l) => l.text)).toEqual(['a1', 'a2', '[sched] s', 'e1', 'e2', 'a3'])
    const tags = {o: TAG_STDOUT, e: TAG_STDERR, s: TAG_SYSTEM, m: TAG_META}
    for (let cut = 1; cut < frames.length; cut++) {
      const counter = new LineAssembler({from: 0, to: 0, keepPartials: 100})
      for (const [tag, ts, payload] of frames.slice(0, cut)) counter.frame(tags[tag], ts, Buffer.from(payload))
      const state = counter.snapshot(100)!
      const lines: LogLine[] = []
      const resumed = new LineAssembler({from: 0, onLine: (line) => lines.push(line), resume: {...state, firstAvailable: 0}})
      for (const [tag, ts, payload] of frames.slice(cut)) resumed.frame(tags[tag], ts, Buffer.from(payload))
      expect(lines, `resumed after frame ${cut}`).toEqual(whole.filter((l) => l.n >= state.next))
    }
  })

  it('cannot snapshot a partial line it only counted', () => {
    const assembler = new LineAssembler({from: 0, to: 0, keepPartials: 4})
    assembler.frame(TAG_STDOUT, 1, Buffer.from('abc'))
    expect(assembler.snapshot(100)).toBeDefined()
    assembler.frame(TAG_STDOUT, 2, Buffer.from('defg'))
    expect(assembler.snapshot(100)).toBeUndefined()
    assembler.frame(TAG_STDOUT, 3, Buffer.from('\nx'))
    expect(assembler.snapshot(100)?.partials[0]).toEqual({parts: [Buffer.from('x')], length: 1, ts: 3})
  })

  it('flushes partial lines at the final frame, stdout first, then stderr', () => {
    const {lines, assembler} = assemble([
      ['m', 1, '{"base":0}'],
      ['e', 2, 'tail of err'],
      ['o', 3, 'tail of out'],
      ['m', 4, '{"final":true}'],
      ['o', 5, 'after the end\n'],
    ])
    expect(lines).toEqual([
      {n: 0, ts: 3, stream: 'stdout', text: 'tail of out'},
      {n: 1, ts: 2, stream: 'stderr', text: 'tail of err'},
    ])
    expect(assembler.finalized).toBe(true)
    expect(assembler.next).toBe(2)
  })

  it('strips one CR before LF, even when the CR ends the previous frame, and keeps other CRs', () => {
    const {lines} = assemble([
      ['m', 1, '{"base":0}'],
      ['o', 2, 'dos\r\nsplit\r'],
      ['o', 3, '\nprogress\r50%\r100%\r\n\r\n'],
    ])
    expect(lines.map((l) => l.text)).toEqual(['dos', 'split', 'progress\r50%\r100%', ''])
  })

  it('decodes UTF-8 per complete line, so a character split across chunks survives', () => {
    const bytes = Buffer.from('héllo → wörld 🎉\n')
    for (let cut = 1; cut < bytes.length; cut++) {
      const {lines} = assemble([
        ['m', 1, '{"base":0}'],
        ['o', 2, bytes.subarray(0, cut)],
        ['o', 3, bytes.subarray(cut)],
      ])
      expect(lines, `cut at ${cut}`).toEqual([{n: 0, ts: 2, stream: 'stdout', text: 'héllo → wörld 🎉'}])
    }
  })

  it('materialises only the window but counts every line', () => {
    const out = Array.from({length: 50}, (_, i) => `line ${i}\n`).join('')
    const {lines, assembler} = assemble(
      [
        ['m', 1, '{"base":0}'],
        ['o', 2, out.slice(0, 77)],
        ['o', 3, out.slice(77)],
        ['e', 4, 'no newline'],
        ['m', 5, '{"final":true}'],
      ],
      {from: 8, to: 12},
    )
    expect(lines.map((l) => [l.n, l.text])).toEqual([
      [8, 'line 8'],
      [9, 'line 9'],
      [10, 'line 10'],
      [11, 'line 11'],
    ])
    expect(assembler.next).toBe(51)
  })

  it('starts numbering at the first segment base and jumps over segments it never saw', () => {
    const {lines, assembler} = assemble([
      ['m', 1, '{"base":40}'],
      ['o', 2, 'rest of an older line\nforty-one\nlost par'],
      ['m', 3, '{"base":60}'],
      ['o', 4, 'tial\nsixty-one\n'],
    ])
    expect(assembler.firstAvailable).toBe(40)
    expect(assembler.skipped).toBe(18)
    expect(lines.map((l) => [l.n, l.text])).toEqual([
      [40, 'rest of an older line'],
      [41, 'forty-one'],
      [60, 'tial'],
      [61, 'sixty-one'],
    ])
  })

  it('carries partial lines across a segment that continues the previous one', () => {
    const {lines} = assemble([
      ['m', 1, '{"base":0}'],
      ['o', 2, 'zero\nsplit acr'],
      ['m', 3, '{"base":1}'],
      ['o', 4, 'oss segments\n'],
    ])
    expect(lines.map((l) => [l.n, l.ts, l.text])).toEqual([
      [0, 2, 'zero'],
      [1, 2, 'split across segments'],
    ])
  })

  it('notices the cap marker of drop_new and kill_task', () => {
    expect(assemble([['s', 1, `${fullMarker(200, 'drop_new')}\n`]]).assembler.dropped).toBe(true)
    expect(assemble([['s', 1, `${fullMarker(200, 'kill_task')}\n`]]).assembler.dropped).toBe(true)
    expect(assemble([['o', 1, `${fullMarker(200, 'drop_new')}\n`]]).assembler.dropped).toBe(false)
  })
})
