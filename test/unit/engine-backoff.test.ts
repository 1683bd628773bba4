import {describe, expect, it} from 'vitest'
import {MAX_RESTART_DELAY_MS, MAX_RETRY_DELAY_MS, restartDelayMs, retryDelayMs} from '../../src/engine/backoff.js'

const S = 1000
const range = (from: number, to: number): number[] => Array.from({length: to - from + 1}, (_, i) => from + i)

describe('retryDelayMs: delay before retry k (1-based), capped at 5 min (SPEC §2)', () => {
  const k = range(1, 12)

  it('caps at 5 minutes', () => {
    expect(MAX_RETRY_DELAY_MS).toBe(300 * S)
  })

  it('constant: d', () => {
    expect(k.map((i) => retryDelayMs(5 * S, 'constant', i))).toEqual(Array(12).fill(5 * S))
  })

  it('linear: d·k', () => {
    expect(k.map((i) => retryDelayMs(5 * S, 'linear', i) / S)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60])
  })

  it('linear reaches the cap and stays there', () => {
    expect(k.map((i) => retryDelayMs(40 * S, 'linear', i) / S)).toEqual([40, 80, 120, 160, 200, 240, 280, 300, 300, 300, 300, 300])
  })

  it('exponential: d·2^(k−1), capped', () => {
    expect(k.map((i) => retryDelayMs(5 * S, 'exponential', i) / S)).toEqual([5, 10, 20, 40, 80, 160, 300, 300, 300, 300, 300, 300])
    expect(k.map((i) => retryDelayMs(1, 'exponential', i))).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048])
  })

  it('a delay above the cap is capped, even constant', () => {
    expect(retryDelayMs(600 * S, 'constant', 1)).toBe(MAX_RETRY_DELAY_MS)
    expect(retryDelayMs(300 * S, 'constant', 3)).toBe(MAX_RETRY_DELAY_MS)
    expect(retryDelayMs(300 * S - 1, 'constant', 3)).toBe(300 * S - 1)
  })

  it('0s stays 0 for every curve', () => {
    for (const backoff of ['constant', 'linear', 'exponential'] as const) expect(k.map((i) => retryDelayMs(0, backoff, i))).toEqual(Array(12).fill(0))
    // 0 × 2^2000 must not be 0 × Infinity = NaN.
    expect(retryDelayMs(0, 'exponential', 2001)).toBe(0)
  })

  it('retry 100 (the most retry_attempts allows) and far beyond: capped, finite', () => {
    expect(retryDelayMs(1 * S, 'exponential', 100)).toBe(MAX_RETRY_DELAY_MS)
    expect(retryDelayMs(1 * S, 'linear', 100)).toBe(100 * S)
    for (const backoff of ['linear', 'exponential'] as const) {
      for (const k of [1000, 1e6, 1e9, Number.MAX_SAFE_INTEGER]) expect(retryDelayMs(1 * S, backoff, k)).toBe(MAX_RETRY_DELAY_MS)
    }
    // 2^(k−1) for a 1 ms base would be Infinity past k = 1025: still the cap.
    for (const k of [1025, 5000]) expect(retryDelayMs(1, 'exponential', k)).toBe(MAX_RETRY_DELAY_MS)
  })
})

describe('restartDelayMs: delay before the n-th consecutive restart (n from 0), capped at 60 s (SPEC §2)', () => {
  const n = range(0, 12)

  it('caps at 60 s', () => {
    expect(MAX_RESTART_DELAY_MS).toBe(60 * S)
  })

  it('constant: d', () => {
    expect(n.map((i) => restartDelayMs(1 * S, 'constant', i))).toEqual(Array(13).fill(1 * S))
  })

  it('linear: d·(n+1), capped', () => {
    expect(n.map((i) => restartDelayMs(1 * S, 'linear', i) / S)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    expect(n.map((i) => restartDelayMs(7 * S, 'linear', i) / S)).toEqual([7, 14, 21, 28, 35, 42, 49, 56, 60, 60, 60, 60, 60])
  })

  it('exponential (the default): d·2^n, capped', () => {
    expect(n.map((i) => restartDelayMs(1 * S, 'exponential', i) / S)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60])
    expect(n.map((i) => restartDelayMs(3, 'exponential', i))).toEqual([3, 6, 12, 24, 48, 96, 192, 384, 768, 1536, 3072, 6144, 12288])
  })

  it('a delay above the cap is capped, even constant', () => {
    expect(restartDelayMs(90 * S, 'constant', 0)).toBe(MAX_RESTART_DELAY_MS)
  })

  it('0s stays 0', () => {
    for (const backoff of ['constant', 'linear', 'exponential'] as const) expect(n.map((i) => restartDelayMs(0, backoff, i))).toEqual(Array(13).fill(0))
    expect(restartDelayMs(0, 'exponential', 2000)).toBe(0)
  })

  it('a service that has restarted thousands of times: capped, finite', () => {
    for (const backoff of ['linear', 'exponential'] as const) {
      for (const count of [1023, 1024, 5000, 1e6, Number.MAX_SAFE_INTEGER]) expect(restartDelayMs(1 * S, backoff, count)).toBe(MAX_RESTART_DELAY_MS)
    }
    for (const count of [1024, 5000]) expect(restartDelayMs(1, 'exponential', count)).toBe(MAX_RESTART_DELAY_MS)
  })
})
