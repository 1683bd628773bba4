import {Command, Errors, Flags} from '@oclif/core'
import type {ChalkInstance} from 'chalk'
import {type Config, loadConfigFile, stateDirSetting} from '../config/load.js'
import {ConfigInvalidError, loadValidConfig} from '../config/valid.js'
import {locateConfig} from '../config/locate.js'
import {ExitCode, SchedError} from '../core/errors.js'
import type {Unit} from '../core/types.js'
import {type CompiledConfig, readCompiledConfig} from '../state/compiled-config.js'
import {StateLayout} from '../state/layout.js'
import {resolveStateDir} from '../state/location.js'
import {colourFor} from './colour.js'
import {formatIssue} from './issues.js'

/**
 * Global flags, config and state-directory resolution, colour policy, and the mapping of
 * SchedError to exit codes. Commands stay thin: parse, call, return data.
 */
/** A command's --json answer already serialised (compact), printed as it is to a pipe. */
export class JsonText {
  constructor(readonly text: string) {}
}

export abstract class SchedCommand extends Command {
  static baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Config file.',
      description: 'Default: $SCHED_CONFIG, ./sched.toml, $XDG_CONFIG_HOME/sched/sched.toml, /etc/sched/sched.toml (root).',
      helpGroup: 'GLOBAL',
    }),
    'state-dir': Flags.string({
      summary: 'State directory.',
      description: 'Default: $SCHED_STATE_DIR, [daemon] state_dir, $XDG_STATE_HOME/sched, /var/lib/sched (root).',
      helpGroup: 'GLOBAL',
    }),
  }

  protected locateConfig(flag: string | undefined): string {
    return locateConfig({flag})
  }

  protected loadConfig(flag: string | undefined): Config {
    return loadValidConfig(flag, (issue, path) => this.logToStderr(`warning: ${formatIssue(path, issue)}`))
  }

  /**
   * For commands that read state but need no valid units (runs, logs, status, stop, …): the
   * config, if it loads, and the state directory — from `[daemon] state_dir` even when a unit
   * has an error, so a broken edit never points them at another directory.
   */
  protected readContext(configFlag: string | undefined, stateFlag: string | undefined): {config?: Config; layout: StateLayout} {
    let path: string
    try {
      path = this.locateConfig(configFlag)
    } catch {
      return {layout: this.layout(stateFlag)}
    }
    const result = loadConfigFile(path)
    if (result.ok) return {config: result.config, layout: this.layout(stateFlag, result.config)}
    return {layout: new StateLayout(resolveStateDir({flag: stateFlag, configured: stateDirSetting(path)}))}
  }

  /** The units' names and kinds, from the daemon's compiled copy when it is current (no parse). */
  protected configuredUnits(configFlag: string | undefined, stateFlag: string | undefined): {units: readonly Pick<Unit, 'name' | 'kind'>[]; layout: StateLayout} {
    let compiled: CompiledConfig | undefined
    try {
      compiled = readCompiledConfig(this.locateConfig(configFlag), stateFlag)
    } catch {
      compiled = undefined
    }
    if (compiled) return compiled
    const {config, layout} = this.readContext(configFlag, stateFlag)
    return {units: config?.units ?? [], layout}
  }

  protected layout(flag: string | undefined, config?: Config): StateLayout {
    return new StateLayout(resolveStateDir({flag, configured: config?.daemon.state_dir}))
  }

  /**
   * JSON on stdout: indented for a person at a terminal, compact for a pipe (half the time for a
   * thousand units). oclif's own version colourises token by token, slower than building it.
   */
  logJson(json: unknown): void {
    const indent = process.stdout.isTTY ? 2 : undefined
    if (json instanceof JsonText) process.stdout.write(`${indent ? JSON.stringify(JSON.parse(json.text), null, indent) : json.text}\n`)
    else process.stdout.write(`${JSON.stringify(json, null, indent)}\n`)
  }

  protected out(json = false): ChalkInstance {
    return colourFor(process.stdout, json)
  }

  protected err(): ChalkInstance {
    return colourFor(process.stderr)
  }

  /**
   * Every error leaves with its documented exit code (SPEC §9). Under `--json` (commands with
   * enableJsonFlag) it is one JSON document on stdout, `{error: {message, exit_code, hint?, …}}`,
   * so a script reading stdout gets data on failure too; `this.exit(n)` is not an error.
   */
  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    if (this.jsonEnabled()) {
      const json = errorJson(error)
      process.exitCode = json.error.exit_code
      this.logJson(json)
      return undefined
    }
    if (error instanceof ConfigInvalidError) {
      const c = this.err()
      for (const issue of error.issues) this.logToStderr(formatIssue(error.path, issue, c))
    }
    if (error instanceof SchedError) {
      return super.catch(new Errors.CLIError(error.message, {exit: error.exit, suggestions: error.hint ? [error.hint] : undefined}))
    }
    return super.catch(error)
  }
}

export interface ErrorJson {
  readonly error: {readonly message: string; readonly exit_code: number; readonly hint?: string; readonly [detail: string]: unknown}
}

/** The `--json` form of an error: what went wrong, the exit code, what to do, and its data. */
export function errorJson(error: Error & {oclif?: {exit?: number}; suggestions?: string[]}): ErrorJson {
  const exit = error instanceof SchedError ? error.exit : (error.oclif?.exit ?? ExitCode.failure)
  const hint = error instanceof SchedError ? error.hint : error.suggestions?.join('; ')
  const out: {message: string; exit_code: number; hint?: string; [detail: string]: unknown} = {message: error.message, exit_code: exit}
  if (hint) out.hint = hint
  if (error instanceof ConfigInvalidError) Object.assign(out, {config_path: error.path, errors: error.issues})
  if (error instanceof SchedError && error.details) Object.assign(out, error.details)
  return {error: out}
}

export {ExitCode}
