import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadConfigFile} from '../../src/config/load.js'
import {taskObject} from '../../src/config/task-json.js'
import {NextRuns, scheduledNames} from '../../src/engine/next-runs.js'
import {ROOT, runCli, tempDir} from '../support/cli.js'

/**
 * `sched list --json` of the bundled example, pinned as a golden file: every unit, every seed
 * field, effective values. Regenerate deliberately with UPDATE_GOLDEN=1 and review the diff.
 */
const EXAMPLE = join(ROOT, 'examples', 'sched.toml')
const GOLDEN = join(ROOT, 'test', 'golden', 'list-example.json')
const NOW = Date.parse('2026-11-29T12:00:00Z')

function render(): unknown[] {
  const loaded = loadConfigFile(EXAMPLE, {hostZone: 'UTC'})
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  const nextRuns = new NextRuns(scheduledNames(loaded.config.units, loaded.config.schedules), NOW)
  return loaded.config.units.map((u) => taskObject(u, nextRuns.nextRunAt(u.name, NOW)))
}

describe('list --json golden', () => {
  it('matches the golden file', () => {
    const actual = render()
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, `${JSON.stringify(actual, null, 2)}\n`)
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: write it with UPDATE_GOLDEN=1 and review it`).toBe(true)
    expect(actual).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')))
  })

  it('the CLI prints the same objects (next runs aside, which depend on the clock)', async () => {
    const dir = tempDir()
    const res = await runCli(['list', '--json', '-c', EXAMPLE, '--state-dir', dir.path])
    dir.cleanup()
    expect(res.code).toBe(0)
    const strip = (tasks: Record<string, unknown>[]) => tasks.map(({next_run_at: _, ...rest}) => rest)
    expect(strip(JSON.parse(res.stdout))).toEqual(strip(JSON.parse(readFileSync(GOLDEN, 'utf8'))))
  })
})
