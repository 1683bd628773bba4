import {statfsSync} from 'node:fs'

/** Below this much room a state file (one block, plus its temp copy) cannot be written. */
const MIN_FREE_BYTES = 16 << 10

/**
 * Why nothing can be written under `dir`, when the reason is a full filesystem: "the filesystem
 * holding DIR is full (0 bytes free)". Undefined when there is room, or when it cannot be told.
 * The CLI says this instead of waiting for a daemon that cannot write its answer.
 */
export function fullDiskProblem(dir: string): string | undefined {
  let s
  try {
    s = statfsSync(dir)
  } catch {
    return undefined
  }
  // Root may write into the blocks reserved for it; everyone else only into the available ones.
  const blocks = process.getuid?.() === 0 ? s.bfree : s.bavail
  const free = blocks * s.bsize
  if (s.files > 0 && s.ffree === 0) return `the filesystem holding ${dir} has no free inodes`
  if (free < MIN_FREE_BYTES) return `the filesystem holding ${dir} is full (${free} bytes free)`
  return undefined
}
