import {homedir} from 'node:os'
import {isAbsolute, resolve} from 'node:path'

/** Resolves a path written in sched.toml: `~` is the home directory, relative means relative to the file. */
export function resolveConfigPath(written: string, configDir: string, home: string = homedir()): string {
  if (written === '~') return home
  if (written.startsWith('~/')) return resolve(home, written.slice(2))
  return isAbsolute(written) ? resolve(written) : resolve(configDir, written)
}
