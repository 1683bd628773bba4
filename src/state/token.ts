import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import type {StateLayout} from './layout.js'

/** The API bearer token: SCHED_API_TOKEN, else the state directory's api-token file. */
export function readToken(layout: StateLayout, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SCHED_API_TOKEN) return env.SCHED_API_TOKEN
  try {
    return readFileSync(layout.tokenFile, 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

/** Returns the token, creating the file (0600, 32 random bytes as hex) on first use. */
export function ensureToken(layout: StateLayout, env: NodeJS.ProcessEnv = process.env): {token: string; source: string} {
  if (env.SCHED_API_TOKEN) return {token: env.SCHED_API_TOKEN, source: 'SCHED_API_TOKEN'}
  const existing = readToken(layout, {})
  if (existing) return {token: existing, source: layout.tokenFile}
  const token = randomBytes(32).toString('hex')
  try {
    writeFileSync(layout.tokenFile, `${token}\n`, {mode: 0o600, flag: 'wx'})
  } catch (error) {
    // Another process created it first; its token is the one to use.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return {token: readToken(layout, {})!, source: layout.tokenFile}
    throw error
  }
  return {token, source: layout.tokenFile}
}
