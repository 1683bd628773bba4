import {readFileSync} from 'node:fs'
import {parse} from 'dotenv'

/** Reads a dotenv file (KEY=VALUE lines, `#` comments); throws with the reason on failure. */
export function readDotenv(file: string): Record<string, string> {
  return parse(readFileSync(file))
}
