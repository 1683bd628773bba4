/**
 * The nearest-rank percentile (`p` in 0..100) of `values`, NaN when there are none: one
 * definition for the tests' censuses and the benchmarks (bench/*.js load this through tsx).
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]
}
