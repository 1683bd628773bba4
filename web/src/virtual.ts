/**
 * Which rows of a long list to put in the page: those in view plus `overscan` on each side.
 * Rows have a fixed height, so a 50,000-line log is a few dozen elements and a tall spacer.
 */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan: number): {start: number; end: number} {
  if (count === 0 || rowHeight <= 0) return {start: 0, end: 0}
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight)
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewport)) / rowHeight)
  return {start: Math.max(0, Math.min(count, first - overscan)), end: Math.min(count, last + overscan)}
}

/** The scrollTop that shows row `index` with `context` rows above it (for jumps to a match). */
export function scrollTopFor(index: number, rowHeight: number, context: number): number {
  return Math.max(0, (index - context) * rowHeight)
}

/** Top offsets of rows of varying height: offsets[i] is where row i starts, the last entry the total. */
export function offsetsOf(heights: readonly number[]): number[] {
  const out = [0]
  for (const h of heights) out.push(out[out.length - 1] + h)
  return out
}

/**
 * The rows (by their offsets) that meet the window [top, top + viewport], with `overscan` pixels
 * on each side: the overview's thousand units are a screenful of rows and two spacers.
 */
export function rangeByOffsets(offsets: readonly number[], top: number, viewport: number, overscan: number): {start: number; end: number} {
  const count = offsets.length - 1
  if (count <= 0) return {start: 0, end: 0}
  const from = top - overscan
  const to = top + viewport + overscan
  // The first row ending after `from`, and the first row starting at or after `to`.
  const start = firstIndex(count, (i) => offsets[i + 1] > from)
  const end = Math.max(start, firstIndex(count, (i) => offsets[i] >= to))
  return {start, end}
}

function firstIndex(count: number, test: (i: number) => boolean): number {
  let lo = 0
  let hi = count
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (test(mid)) hi = mid
    else lo = mid + 1
  }
  return lo
}
