import {readFileSync, readdirSync} from 'node:fs'

/** Signals every process of a group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const MARKER = Buffer.from('SCHED_RUN_ID=')

/** The SCHED_RUN_ID values in a NUL-separated environment block (a process has at most one). */
export function runIdOf(environ: Buffer): string | undefined {
  let at = environ.indexOf(MARKER)
  while (at > 0 && environ[at - 1] !== 0) at = environ.indexOf(MARKER, at + 1)
  if (at === -1) return undefined
  const start = at + MARKER.length
  const end = environ.indexOf(0, start)
  return environ.toString('latin1', start, end === -1 ? environ.length : end)
}

/** A run whose leftover processes are looked for: its id, and its leader's pid when known. */
export interface RunTarget {
  readonly runId: string
  /** The process group to kill too (the run's leader pid), or null when it must not be signalled. */
  readonly pgid: number | null
  /** The run's own pid: every descendant has a higher one unless pids wrapped around since. */
  readonly since?: number
}

/**
 * Processes that carry `SCHED_RUN_ID=<id>` of one of `targets` in their environment: every
 * descendant of a run, including those that left its process group (setsid, daemonising) and so
 * escape a group signal. One walk of /proc serves every target, so a thousand runs ending
 * together cost a thousand reads, not a million. `skip` holds pids known to belong to other,
 * live runs (their environment names their own run). Linux only; elsewhere it finds nothing.
 */
export function processesOfRuns(targets: readonly RunTarget[], skip?: ReadonlySet<number>): Map<string, number[]> {
  const found = new Map<string, number[]>(targets.map((t) => [t.runId, []]))
  if (targets.length === 0) return found
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return found
  }
  const lowest = targets.some((t) => t.since === undefined) ? undefined : Math.min(...targets.map((t) => t.since!))
  const floor = lowest !== undefined && !wrappedSince(lowest) ? lowest : 0
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= floor || pid === process.pid || skip?.has(pid)) continue
    let environ: Buffer
    try {
      environ = readFileSync(`/proc/${pid}/environ`)
    } catch {
      continue // gone, or not ours to read
    }
    const id = runIdOf(environ)
    if (id !== undefined) found.get(id)?.push(pid)
  }
  return found
}

function wrappedSince(pid: number): boolean {
  try {
    return Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8')) < pid
  } catch {
    return true
  }
}

/**
 * SIGKILLs every process of each target run, in or out of its group. Returns how many processes
 * were found per run id.
 */
export function killRuns(targets: readonly RunTarget[], skip?: ReadonlySet<number>): Map<string, number> {
  // Looked up before the groups are killed, so that the counts include their members.
  const stragglers = processesOfRuns(targets, skip)
  const counts = new Map<string, number>()
  for (const target of targets) {
    if (target.pgid !== null) signalGroup(target.pgid, 'SIGKILL')
    const pids = stragglers.get(target.runId) ?? []
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    counts.set(target.runId, pids.length)
  }
  return counts
}

export function killRun(runId: string, pgid: number | null, leader?: number): number {
  return killRuns([{runId, pgid, since: leader}]).get(runId)!
}
