/** One bar of the duration chart. */
export interface Bar {
  readonly id: string
  readonly x: number
  readonly width: number
  readonly height: number
  readonly failed: boolean
  readonly durationMs: number
}

/**
 * Bars for runs given newest first: oldest on the left, heights scaled to the longest run,
 * a run with no duration (never started) left out. Pure geometry, so the chart is testable.
 */
export function durationBars(runs: readonly {id: string; duration_ms: number | null; failed: boolean}[], width: number, height: number, gap = 1, maxBar = 24): {bars: Bar[]; maxMs: number} {
  const timed = runs.filter((r) => r.duration_ms !== null).reverse()
  const maxMs = timed.reduce((m, r) => Math.max(m, r.duration_ms!), 0)
  if (timed.length === 0) return {bars: [], maxMs: 0}
  const slot = width / timed.length
  const bars = timed.map((r, i) => ({
    id: r.id,
    x: i * slot,
    // A few runs make bars, not blocks.
    width: Math.max(1, Math.min(maxBar, slot - gap)),
    // A zero-length run still shows as a sliver, so that it can be hovered.
    height: maxMs === 0 ? 1 : Math.max(1, (r.duration_ms! / maxMs) * height),
    failed: r.failed,
    durationMs: r.duration_ms!,
  }))
  return {bars, maxMs}
}
