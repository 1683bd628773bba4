import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

// `npm test` builds first. A bundle with one non-ASCII character is held by V8 as a two-byte
// string: the daemon's resident memory grows by the bundle's size (README, Development).
const DIST = join(import.meta.dirname, '..', '..', 'dist')

describe('the built bundles', () => {
  // index.js (oclif's commands, short-lived processes) holds a regular expression of a
  // dependency's with a raw C1 control character, which esbuild does not escape.
  const bundles = readdirSync(DIST).filter((f) => f.endsWith('.js'))
  const longLived = bundles.filter((f) => f !== 'index.js')

  it('include the daemon entry and its chunks', () => {
    expect(bundles).toContain('daemon-main.js')
    expect(bundles.some((f) => f.startsWith('chunk-'))).toBe(true)
  })

  it.each(longLived)('%s is ASCII', (file) => {
    const bytes = readFileSync(join(DIST, file))
    const at = bytes.findIndex((b) => b > 0x7f)
    const context = at === -1 ? '' : bytes.subarray(Math.max(0, at - 60), at + 20).toString('utf8')
    expect(context, `non-ASCII byte at offset ${at}`).toBe('')
  })
})
