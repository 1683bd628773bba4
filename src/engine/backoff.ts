import type {Backoff} from '../core/types.js'

export const MAX_RETRY_DELAY_MS = 5 * 60_000
export const MAX_RESTART_DELAY_MS = 60_000

/** Delay before retry k (1-based): constant d, linear d·k, exponential d·2^(k−1), capped at 5 min. */
export function retryDelayMs(baseMs: number, backoff: Backoff, k: number): number {
  return curve(baseMs, backoff, k, MAX_RETRY_DELAY_MS)
}

/** Delay before the n-th consecutive restart (n from 0): constant d, linear d·(n+1), exponential d·2^n, capped at 60 s. */
export function restartDelayMs(baseMs: number, backoff: Backoff, n: number): number {
  return curve(baseMs, backoff, n + 1, MAX_RESTART_DELAY_MS)
}

function curve(baseMs: number, backoff: Backoff, step: number, cap: number): number {
  const factor = backoff === 'constant' ? 1 : backoff === 'linear' ? step : 2 ** Math.min(step - 1, 40)
  return Math.min(baseMs * factor, cap)
}
