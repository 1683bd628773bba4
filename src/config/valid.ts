import {SchedError} from '../core/errors.js'
import {type Config, type ConfigIssue, loadConfigFile} from './load.js'
import {locateConfig} from './locate.js'

/** A config that failed to load: every issue is printed before the command exits 1. */
export class ConfigInvalidError extends SchedError {
  constructor(
    readonly path: string,
    readonly issues: readonly ConfigIssue[],
    message = `${path} has ${issues.length} error${issues.length === 1 ? '' : 's'}`,
  ) {
    super(message, {hint: `run: sched validate -c ${path}`})
  }
}

/** The config named by --config or found in the usual places, validated; warnings go to `warn`. */
export function loadValidConfig(flag: string | undefined, warn: (issue: ConfigIssue, path: string) => void): Config {
  const path = locateConfig({flag})
  const result = loadConfigFile(path)
  if (!result.ok) throw new ConfigInvalidError(result.path, result.errors)
  for (const w of result.warnings) warn(w, path)
  return result.config
}
