import {UNIT_FIELDS} from '../../src/config/fields.js'
import type {Kind} from '../../src/core/types.js'

/**
 * Whether a field holds its built-in default for the unit's kind (config/fields.ts, the one
 * table the daemon reads too). A value written explicitly but equal to the default counts as
 * default: what matters to a reader is whether it differs.
 */
export function isDefault(key: string, value: unknown, kind: Kind): boolean {
  const field = UNIT_FIELDS[key]
  if (!field) return false
  const dflt = field.default(kind)
  if (dflt === undefined) return value === '' || value === undefined
  return JSON.stringify(value) === JSON.stringify(dflt)
}
