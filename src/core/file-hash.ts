import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

/** A file's sha256 in hex; '' when it cannot be read (so a missing file differs from any content). */
export function fileHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex')
  } catch {
    return ''
  }
}
