/** A small seeded generator (LCG), so a failing sequence of a randomised test can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
