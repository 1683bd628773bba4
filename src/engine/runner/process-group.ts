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

/**
 * Processes that carry `SCHED_RUN_ID=<runId>` in their environment: every descendant of a run,
 * including those that left its process group (setsid, daemonising) and so escape a group
 * signal. Linux only; elsewhere it finds nothing.
 *
 * Descendants get pids allocated after their ancestor's, so when `since` (the run's own pid) is
 * given and the kernel has not wrapped around pid_max since, only higher pids are read: a run
 * end costs a few reads, not one per process on the machine.
 */
function processesOfRun(runId: string, since?: number): number[] {
  const marker = Buffer.from(`SCHED_RUN_ID=${runId}\0`)
  const found: number[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return found
  }
  const floor = since !== undefined && !wrappedSince(since) ? since : 0
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= floor || pid === process.pid) continue
    try {
      const environ = readFileSync(`/proc/${pid}/environ`)
      if (environ.indexOf(marker) !== -1 || environ.subarray(-marker.length + 1).equals(marker.subarray(0, -1))) found.push(pid)
    } catch {
      // gone, or not ours to read
    }
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
 * SIGKILLs every process of a run, in or out of its group. `leader` is the run's own pid (see
 * processesOfRun). Returns how many processes were found.
 */
export function killRun(runId: string, pgid: number | null, leader?: number): number {
  // Looked up before the group is killed, so that the count includes its members.
  const stragglers = processesOfRun(runId, leader)
  if (pgid !== null) signalGroup(pgid, 'SIGKILL')
  for (const pid of stragglers) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  return stragglers.length
}
