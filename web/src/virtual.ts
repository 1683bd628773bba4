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
