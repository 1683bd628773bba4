import {readFileSync} from 'node:fs'

/**
 * A process is identified by its pid and its start time, so that a pid the kernel has since
 * given to another process is never mistaken for ours (and never signalled).
 */
export interface ProcessIdentity {
  readonly pid: number
  /** Start time in clock ticks since boot (/proc/PID/stat field 22); "" where /proc is missing. */
  readonly start: string
}

export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19]
  } catch {
    return undefined
  }
}

export function identify(pid: number): ProcessIdentity | undefined {
  const start = processStart(pid)
  if (start !== undefined) return {pid, start}
  return isAlive(pid) ? {pid, start: ''} : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** True when the process that had this identity is still the one running under its pid. */
export function isSameProcess(identity: ProcessIdentity): boolean {
  const start = processStart(identity.pid)
  if (start === undefined) return identity.start === '' && isAlive(identity.pid)
  return identity.start === '' || start === identity.start
}
