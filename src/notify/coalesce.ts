import type {Clock, TimerHandle} from '../core/clock.js'

/** What one message stands for: the latest occurrence and how many were folded into it. */
export interface Batch<T> {
  readonly item: T
  readonly count: number
  /** Epoch ms of the first and the last occurrence the message stands for. */
  readonly first: number
  readonly last: number
}

interface Window<T> {
  timer?: TimerHandle
  pending?: {item: T; count: number; first: number; last: number}
}

/**
 * Folds repeats of one key — (notifier, event, unit) — within a window into one message
 * (SPEC §14 `coalesce`). The first occurrence after a quiet period goes out at once and opens a
 * window; occurrences inside it are only counted; when the window closes, one message carries
 * their count and first/last times and opens the next window, so a steady flood costs one
 * message per window. A window of 0 sends every occurrence. Time comes from the injected clock.
 */
export class Coalescer<T> {
  private readonly windows = new Map<string, Window<T>>()

  constructor(
    private readonly clock: Clock,
    private readonly emit: (key: string, batch: Batch<T>) => void,
  ) {}

  /** Returns true when the occurrence went out now, false when it was folded into the window. */
  offer(key: string, windowMs: number, item: T): boolean {
    const now = this.clock.now()
    if (windowMs <= 0) {
      this.emit(key, {item, count: 1, first: now, last: now})
      return true
    }
    const open = this.windows.get(key)
    if (open) {
      if (open.pending) {
        open.pending.item = item
        open.pending.count++
        open.pending.last = now
      } else {
        open.pending = {item, count: 1, first: now, last: now}
      }
      return false
    }
    this.open(key, windowMs)
    this.emit(key, {item, count: 1, first: now, last: now})
    return true
  }

  /** Occurrences folded and not yet sent. */
  pendingCount(): number {
    let n = 0
    for (const w of this.windows.values()) n += w.pending?.count ?? 0
    return n
  }

  /** Sends what every open window holds now and closes them all (daemon shutdown). */
  flush(): void {
    const open = [...this.windows]
    this.windows.clear()
    for (const [key, w] of open) {
      w.timer?.cancel()
      if (w.pending) this.emit(key, {...w.pending})
    }
  }

  private open(key: string, windowMs: number): void {
    const w: Window<T> = {}
    this.windows.set(key, w)
    w.timer = this.clock.setTimer(windowMs, () => {
      if (this.windows.get(key) !== w) return
      this.windows.delete(key)
      if (!w.pending) return
      this.open(key, windowMs)
      this.emit(key, {...w.pending})
    })
  }
}
