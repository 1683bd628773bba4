import {createHash} from 'node:crypto'
import type {Unit} from '../core/types.js'

/**
 * The hash every cluster node publishes and compares (SPEC §13): SHA-256 of the effective units
 * — defaults applied, paths resolved, env files merged — in a canonical JSON (object keys sorted,
 * units by name). So comments, key order and formatting do not change it, and two files that
 * mean the same units hash the same; a working_dir that resolves elsewhere, a host zone that
 * differs (the effective `timezone` of a cron task) or a newer sched that adds a field do change
 * it, as they change what the node would run. Secret values are not part of it: they never leave
 * the node, not even hashed.
 */
export function configHash(units: readonly Unit[]): string {
  const sorted = [...units].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return createHash('sha256').update(canonicalJson(sorted)).digest('hex')
}

/** JSON with object keys in sorted order and undefined members left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const parts: string[] = []
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`)
    }
    return `{${parts.join(',')}}`
  }
  return JSON.stringify(value)
}
