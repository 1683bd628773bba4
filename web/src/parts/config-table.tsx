import {UNIT_FIELDS, appliesTo} from '../../../src/config/fields.js'
import {isDefault} from '../config-defaults.js'
import {durationNs, formatBytes} from '../format.js'
import type {TaskObject} from '../types.js'

const SIZES = new Set(['log_max_size'])
const NOT_CONFIG = new Set(['name', 'kind', 'state', 'next_run_at'])

function show(key: string, value: unknown): string {
  if (key === 'parameters' && Array.isArray(value)) return value.map((p) => JSON.stringify(p)).join('\n') || '[]'
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
          const applies = appliesTo(key, props.task.kind) || !UNIT_FIELDS[key]
          return (
            <tr key={key} class={dflt || !applies ? 'is-default' : undefined}>
              <th scope="row">
                <code>{key}</code>
              </th>
              <td>
                <pre>{show(key, value)}</pre>
                {!applies ? <span class="badge neutral small">{props.task.kind === 'task' ? 'services only' : 'tasks only'}</span> : dflt && <span class="badge neutral small">default</span>}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
