import {FAILURE_REASONS} from '../../src/core/types.js'

/** The overview's state filter: the unit's own status, or `failing`. */
export const STATE_FILTERS = ['failing', 'running', 'queued', 'idle', 'starting', 'backoff', 'stopped', 'fatal'] as const

export interface FilterableUnit {
  readonly name: string
  readonly group: string
  readonly status: string
  readonly lastEndReason: string | null
}

export interface UnitFilter {
  /** Part of the name, any case. */
  readonly text: string
  /** A group ('' = every group; `-` = units without a group). */
  readonly group: string
  readonly state: string
}

/**
 * Whether the overview shows a unit. `failing`: its newest run ended in a failure, or it is a
 * FATAL service — the 3 a.m. question.
 */
export function matchesFilter(u: FilterableUnit, f: UnitFilter): boolean {
  if (f.text && !u.name.toLowerCase().includes(f.text.toLowerCase())) return false
  if (f.group && (f.group === '-' ? u.group !== '' : u.group !== f.group)) return false
  if (!f.state) return true
  if (f.state === 'failing') return u.status === 'fatal' || (u.lastEndReason !== null && (FAILURE_REASONS as readonly string[]).includes(u.lastEndReason))
  return u.status === f.state
}

/** Units by group, groups sorted by name with the ungrouped last; units keep their order. */
export function groupUnits<T extends {readonly group: string}>(units: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>()
  for (const u of units) {
    const list = groups.get(u.group)
    if (list) list.push(u)
    else groups.set(u.group, [u])
  }
  return [...groups].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
}
