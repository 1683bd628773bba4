import {describe, expect, it} from 'vitest'
import {formatBytes, parseBytes} from '../../src/core/bytes.js'
import {NS, formatDuration, parseDuration} from '../../src/core/duration.js'

const KiB = 1024
const MiB = 1024 ** 2
const GiB = 1024 ** 3
const TiB = 1024 ** 4

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['0s', 0],
    ['00s', 0],
    ['1ns', 1],
    ['1us', 1_000],
    ['1µs', 1_000], // U+00B5 MICRO SIGN
    ['1μs', 1_000], // U+03BC GREEK SMALL LETTER MU
    ['300ms', 300_000_000],
    ['5s', 5_000_000_000],
    ['90s', 90_000_000_000],
    ['2m', 120_000_000_000],
    ['1h', 3_600_000_000_000],
    ['1h30m', 5_400_000_000_000],
    ['5m5s', 305_000_000_000],
    ['1m1m', 120_000_000_000],
    ['2d', 172_800_000_000_000],
    ['1w', 604_800_000_000_000],
    ['1d2h3m4s5ms', 93_784_005_000_000],
    // fractions
    ['1.5h', 5_400_000_000_000],
    ['0.5h', 1_800_000_000_000],
    ['1.5w', 907_200_000_000_000],
    ['1.1s', 1_100_000_000],
    ['.5s', 500_000_000],
    ['5.s', 5_000_000_000],
    ['2.5ms', 2_500_000],
    // rounded to whole nanoseconds
    ['1.5ns', 2],
    ['0.4ns', 0],
    // surrounding whitespace is ignored
    [' 5s ', 5_000_000_000],
    ['\t1m\n', 60_000_000_000],
  ])('%j → %d ns', (text, ns) => {
    const parsed = parseDuration(text)
    expect(parsed).toBe(ns)
    expect(Number.isInteger(parsed)).toBe(true)
  })

  it.each([
    [''],
    ['   '],
    ['5'], // a bare number other than 0 has no unit
    ['1h30'], // trailing number without a unit
    ['s'],
    ['ms'],
    ['5S'], // units are case-sensitive
    ['5M'],
    ['5 s'],
    ['1h 30m'],
    ['-5s'],
    ['+5s'],
    ['1e3s'],
    ['1.5.5s'],
    ['5sec'],
    ['5y'],
    ['1,5s'],
    ['five seconds'],
    ['0x10s'],
  ])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it('uses the documented unit sizes', () => {
    expect(NS).toEqual({ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86_400e9, w: 604_800e9})
  })
})

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [1, '1ns'],
    [999, '999ns'],
    [1_000, '1µs'],
    [1_500, '1.5µs'],
    [1_000_000, '1ms'],
    [1_500_000, '1.5ms'],
    [1_234_567, '1.235ms'],
    [250_000_000, '250ms'],
    [1_000_000_000, '1s'],
    [1_500_000_000, '1.5s'],
    [59_500_000_000, '59.5s'],
    [60_000_000_000, '1m'],
    [90_000_000_000, '1m30s'],
    [3_600_000_000_000, '1h'],
    [5_400_000_000_000, '1h30m'],
    [3_601_000_000_000, '1h1s'],
    [86_400_000_000_000, '1d'],
    [90_061_000_000_000, '1d1h1m1s'],
    [604_800_000_000_000, '7d'],
  ])('%d ns → %j', (ns, text) => {
    expect(formatDuration(ns)).toBe(text)
  })

  it.each([0, 1, 1_500, 2_500_000, 1_500_000_000, 59_000_000_000, 60_000_000_000, 5_400_000_000_000, 90_061_000_000_000, 604_800_000_000_000])(
    'parseDuration(formatDuration(%d)) round-trips',
    (ns) => {
      expect(parseDuration(formatDuration(ns))).toBe(ns)
    },
  )
})

describe('parseBytes', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['1', 1],
    ['4096', 4096],
    ['1b', 1],
    ['1B', 1],
    ['1k', KiB],
    ['1kb', KiB],
    ['1KB', KiB],
    ['1KiB', KiB],
    ['1kib', KiB],
    ['512kb', 512 * KiB],
    ['10MB', 10 * MiB],
    ['10mb', 10 * MiB],
    ['10Mb', 10 * MiB],
    ['2m', 2 * MiB],
    ['3MiB', 3 * MiB],
    ['1.5gb', 1.5 * GiB],
    ['1.5GB', 1_610_612_736],
    ['2g', 2 * GiB],
    ['1GiB', GiB],
    ['1tb', TiB],
    ['1T', TiB],
    ['1TiB', TiB],
    ['.5kb', 512],
    ['5.kb', 5 * KiB],
    ['1 kb', KiB], // a space between number and unit is allowed
    [' 2 MB ', 2 * MiB],
    // fractions of a byte are dropped
    ['1.5b', 1],
    ['1.0001kb', 1024],
  ])('%j → %d bytes', (text, n) => {
    expect(parseBytes(text)).toBe(n)
  })

  it.each([[''], ['  '], ['kb'], ['-1kb'], ['-1'], ['1pb'], ['1e3'], ['1,5kb'], ['1 k b'], ['0x10'], ['10 parsecs'], ['1kbb'], ['1.2.3kb']])(
    '%j is not a size',
    (text) => {
      expect(parseBytes(text)).toBeUndefined()
    },
  )
})

describe('formatBytes', () => {
  it.each<[number, string]>([
    [0, '0B'],
    [1, '1B'],
    [1023, '1023B'],
    [1024, '1KB'],
    [1536, '1.5KB'],
    [10 * MiB, '10MB'],
    [100 * MiB, '100MB'],
    [1.5 * GiB, '1.5GB'],
    [TiB, '1TB'],
    [1024 * TiB, '1024TB'], // TB is the largest unit
  ])('%d → %j', (n, text) => {
    expect(formatBytes(n)).toBe(text)
  })

  it.each([0, 1, 1023, 1024, 1536, 512 * KiB, 10 * MiB, 1.5 * GiB, TiB])('parseBytes(formatBytes(%d)) round-trips', (n) => {
    expect(parseBytes(formatBytes(n))).toBe(n)
  })
})
