import type {Kind} from '../core/types.js'

/**
 * What every importer produces from its input (a crontab, a Compose file, a supervisord config):
 * units as sched.toml tables, what it could not map, and what was wrong with the input — each
 * with the line of the input it came from, so a message can point there.
 */

/** A TOML value an importer writes: tables are inline `{…}` (env, compose). */
export type TomlValue = string | number | boolean | readonly string[] | readonly number[] | {readonly [key: string]: string}

/** Where in the input something was written: a file (or "crontab -l", "stdin") and a line. */
export interface InputPlace {
  readonly source: string
  readonly line: number
}

export interface ImportedUnit extends InputPlace {
  readonly kind: Kind
  readonly name: string
  /** Comment lines written above the table (provenance: the input line, the source file). */
  readonly comments: readonly string[]
  /** sched keys in the order they are written. */
  readonly fields: {readonly [key: string]: TomlValue}
  /** Written as `[[tasks.NAME.parameters]]` tables. */
  readonly parameters?: readonly {readonly [key: string]: TomlValue}[]
  /** Input lines of individual keys, where they differ from `line`. */
  readonly keyLines?: {readonly [key: string]: number}
}

export interface Unmapped extends InputPlace {
  /** What the input said, e.g. `MAILTO=ops@example.com` or `services.web.ports`. */
  readonly what: string
  /** Why sched does not take it, and what to do instead. */
  readonly why: string
}

export interface InputError extends InputPlace {
  readonly message: string
}

export interface ImportResult {
  readonly units: readonly ImportedUnit[]
  readonly unmapped: readonly Unmapped[]
  readonly errors: readonly InputError[]
}
