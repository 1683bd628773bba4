import {mkdirSync, readFileSync, renameSync} from 'node:fs'
import {basename, join} from 'node:path'
import {SchedError, errorMessage} from '../core/errors.js'
import {STATE_FORMAT} from './state-format.js'

export {STATE_FORMAT}

export type CorruptReport = (path: string, problem: string, movedTo: string | undefined) => void

export interface ReadOptions {
  /** Where corrupt files are set aside; when absent they are left in place. */
  readonly corruptDir?: string
  readonly onCorrupt?: CorruptReport
}

/**
 * Reads a JSON state file. Missing → undefined. Corrupt or truncated → reported with its path
 * and the problem, moved aside (never silently dropped), and undefined. Newer format → error.
 */
export function readStateFile<T extends {v: number}>(path: string, options: ReadOptions = {}): T | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  return parseStateText<T>(text, path, options)
}

export function parseStateText<T extends {v: number}>(text: string, path: string, options: ReadOptions = {}): T | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    setAside(path, text.length === 0 ? 'empty file' : `not valid JSON (${errorMessage(error)})`, options)
    return undefined
  }
  if (typeof value !== 'object' || value === null || typeof (value as {v?: unknown}).v !== 'number') {
    setAside(path, 'no format version ("v") in the file', options)
    return undefined
  }
  const v = (value as {v: number}).v
  if (v > STATE_FORMAT) {
    throw new SchedError(`${path} was written by a newer sched (state format ${v}; this sched reads ${STATE_FORMAT})`, {
      hint: 'upgrade sched, or point --state-dir at another directory',
    })
  }
  return value as T
}

function setAside(path: string, problem: string, options: ReadOptions): void {
  let movedTo: string | undefined
  if (options.corruptDir) {
    try {
      mkdirSync(options.corruptDir, {recursive: true, mode: 0o700})
      movedTo = join(options.corruptDir, `${basename(path)}.${Date.now()}`)
      renameSync(path, movedTo)
    } catch {
      movedTo = undefined
    }
  }
  options.onCorrupt?.(path, problem, movedTo)
}
