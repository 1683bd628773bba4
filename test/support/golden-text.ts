import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {expect} from 'vitest'
import {ROOT} from './cli.js'

/**
 * Compares text with test/golden/NAME, written the first time (or with UPDATE_GOLDEN=1): the
 * review of a golden file's diff is the review of the output.
 */
export function expectGoldenText(name: string, actual: string): void {
  const file = join(ROOT, 'test', 'golden', name)
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, actual)
  }
  expect(actual).toBe(readFileSync(file, 'utf8'))
}
