import {UNIT_FIELDS} from '../../../src/config/fields.js'
import type {Kind} from '../../../src/core/types.js'
import {durationNs, formatBytes} from '../format.js'
import type {TaskObject} from '../types.js'

const SIZES = new Set(['log_max_size'])
const NOT_CONFIG = new Set(['name', 'kind', 'state', 'next_run_at'])

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

function show(key: string, value: unknown): string {
  if (typeof value === 'number' && UNIT_FIELDS[key]?.isDuration) return value === 0 ? '0 (none)' : durationNs(value)
  if (typeof value === 'number' && SIZES.has(key)) return formatBytes(value)
  if (value === '') return '(empty)'
  if (typeof value === 'string') return value
  return JSON.stringify(value, null, typeof value === 'object' && value !== null && JSON.stringify(value).length > 60 ? 2 : undefined)
}

/** Every seed field of the unit at its effective value, defaults marked. */
export function ConfigTable(props: {readonly task: TaskObject}) {
  const entries = Object.entries(props.task).filter(([k]) => !NOT_CONFIG.has(k))
  return (
    <table class="config">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Effective value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => {
          const dflt = isDefault(key, value, props.task.kind)
          return (
            <tr key={key} class={dflt ? 'is-default' : undefined}>
              <th scope="row">
                <code>{key}</code>
              </th>
              <td>
                <pre>{show(key, value)}</pre>
                {dflt && <span class="badge neutral small">default</span>}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
