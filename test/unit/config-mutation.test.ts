import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadConfigText} from '../../src/config/load.js'
import {seeded} from '../support/seeded.js'

/**
 * Issue 8, "Prove it", hostile input: the example config mutated thousands of ways (bytes
 * dropped, duplicated, swapped for TOML's own punctuation, lines cut, shuffled, repeated) never
 * throws out of the loader — every outcome is a config or a list of errors with a line and a key
 * or message — so the CLI never shows a stack trace for a bad file. Seeded: SCHED_FUZZ_SEED replays.
 */

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'sched.toml'), 'utf8')
const PUNCTUATION = ['[', ']', '"', "'", '=', '\n', '{', '}', ',', '.', '#', '\\', '\u0000', '\uFFFD', '"""', '[[', '0x', '-', '1e999', ' ']
const ROUNDS = process.env.SCHED_SOAK === '1' ? 20_000 : 2_000

function mutate(text: string, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]
  const at = Math.floor(rnd() * text.length)
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 8))
    case 1:
      return text.slice(0, at) + pick(PUNCTUATION) + text.slice(at)
    case 2:
      return text.slice(0, at) + text.slice(at, at + 40) + text.slice(at)
    case 3:
      return text.slice(0, at)
    case 4: {
      const lines = text.split('\n')
      const i = Math.floor(rnd() * lines.length)
      const j = Math.floor(rnd() * lines.length)
      ;[lines[i], lines[j]] = [lines[j], lines[i]]
      return lines.join('\n')
    }
    default:
      return text + '\n' + text.slice(at, at + 200)
  }
}

describe('mutated TOML', () => {
  it(`never throws out of the loader; errors say where (${ROUNDS} mutations)`, () => {
    const seed = Number(process.env.SCHED_FUZZ_SEED ?? 4242)
    const rnd = seeded(seed)
    let failed = 0
    for (let round = 0; round < ROUNDS; round++) {
      let text = EXAMPLE
      for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) text = mutate(text, rnd)
      let result: ReturnType<typeof loadConfigText>
      try {
        result = loadConfigText(text, '/etc/sched/sched.toml')
      } catch (error) {
        throw new Error(`seed ${seed} round ${round}: the loader threw ${(error as Error).stack}\n--- input ---\n${text}`)
      }
      if (result.ok) continue
      failed++
      for (const e of result.errors) {
        expect(e.message, `round ${round}`).toBeTruthy()
        expect(e.message).not.toMatch(/\n\s+at /)
      }
    }
    // Most mutations break the file: the errors were exercised, not only the happy path.
    expect(failed).toBeGreaterThan(ROUNDS / 4)
  })
})
