import {readFileSync} from 'node:fs'
import {locateConfig} from '../config/locate.js'
import {stateDirSetting} from '../config/load.js'
import {parseToml} from '../config/toml.js'
import {isTable} from '../config/values.js'
import {StateLayout} from '../state/layout.js'
import {resolveStateDir} from '../state/location.js'
import {RunStore} from '../state/runs.js'

export const NAME_KINDS = ['tasks', 'services', 'units', 'runs'] as const
export type NameKind = (typeof NAME_KINDS)[number]

/** How many run ids a completion offers: the newest, which are the ones people look at. */
const RUN_IDS = 50

/**
 * Names for shell completion, fast and forgiving: unit names are the tables of the config as
 * written (no validation, so a config with an error still completes), run ids the newest file
 * names in the state directory. Whatever cannot be read completes to nothing.
 */
export function completionNames(kind: NameKind, options: {config?: string; stateDir?: string}): string[] {
  let path: string | undefined
  try {
    path = locateConfig({flag: options.config})
  } catch {
    path = undefined
  }
  if (kind === 'runs') {
    try {
      const layout = new StateLayout(resolveStateDir({flag: options.stateDir, configured: path && stateDirSetting(path)}))
      const ids: string[] = []
      for (const entry of new RunStore(layout).newestAll()) {
        if (ids.push(entry.id) >= RUN_IDS) break
      }
      return ids
    } catch {
      return []
    }
  }
  if (!path) return []
  try {
    const doc = parseToml(readFileSync(path, 'utf8')).value
    const sections = kind === 'units' ? ['tasks', 'services'] : [kind]
    return sections.flatMap((s) => (isTable(doc[s]) ? Object.keys(doc[s]) : [])).sort()
  } catch {
    return []
  }
}
