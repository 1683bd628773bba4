import {mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadConfigFile} from '../../src/config/load.js'
import {taskObject} from '../../src/config/task-json.js'
import {NextRuns, scheduledNames} from '../../src/engine/next-runs.js'
import {readCompiledConfig, writeCompiledConfig} from '../../src/state/compiled-config.js'
import {StateLayout} from '../../src/state/layout.js'
import {tempDirsPerTest} from '../support/cli.js'

const NOW = Date.parse('2026-03-08T06:00:00Z')
const HOUR = 3_600_000

const tempDir = tempDirsPerTest()

function setup(extra = '') {
  const dir = tempDir('sched-compiled-')
  const state = join(dir, 'state')
  mkdirSync(state)
  mkdirSync(join(dir, 'work'))
  writeFileSync(join(dir, 'app.env'), 'A=1\n')
  const path = join(dir, 'sched.toml')
  writeFileSync(
    path,
    `${extra}
[tasks.backup]
run = "true"
cron = "30 2 * * *"
timezone = "America/New_York"
env_file = "app.env"
working_dir = "work"

[tasks."db.nightly"]
run = "echo \\"quoted\\""
cron = "*/5 * * * *"
description = "multi\\nline"

[tasks.manual]
run = "true"

[services.web]
run = "sleep 100"
instances = 2
`,
  )
  return {dir, path, state, layout: new StateLayout(state)}
}

/** What `sched list --json` printed before the compiled copy existed: load, then render. */
function loaded(path: string, now: number): unknown[] {
  const result = loadConfigFile(path)
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  const nextRuns = new NextRuns(scheduledNames(result.config.units, result.config.schedules), undefined)
  return result.config.units.map((u) => taskObject(u, nextRuns.nextRunAt(u.name, now)))
}

async function compile(path: string, layout: StateLayout, at = NOW): Promise<void> {
  const result = loadConfigFile(path)
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  await writeCompiledConfig(layout, result.config, new NextRuns(scheduledNames(result.config.units, result.config.schedules), undefined), at)
}

function fromCopy(path: string, state: string, now: number): unknown[] | undefined {
  const copy = readCompiledConfig(path, state)
  return copy && (JSON.parse(copy.tasksJson(copy.nextRuns(undefined), now)) as unknown[])
}

describe('the compiled config copy', () => {
  it('answers exactly what loading the file answers, next runs included', async () => {
    const {path, state, layout} = setup()
    await compile(path, layout)
    expect(fromCopy(path, state, NOW)).toEqual(loaded(path, NOW))
  })

  it('recomputes a next run whose tick has passed since the copy was written (across a DST change)', async () => {
    const {path, state, layout} = setup()
    await compile(path, layout)
    const later = NOW + 30 * HOUR
    const answer = fromCopy(path, state, later)
    expect(answer).toEqual(loaded(path, later))
    expect(answer).not.toEqual(loaded(path, NOW))
  })

  it('is not used once the config file changes, even at the same size and mtime', async () => {
    const {path, state, layout} = setup()
    await compile(path, layout)
    const {mtime} = statSync(path)
    writeFileSync(path, readFileSync(path, 'utf8').replace('30 2 * * *', '31 2 * * *'))
    utimesSync(path, mtime, mtime)
    expect(fromCopy(path, state, NOW)).toBeUndefined()
  })

  it('is not used once an env file it read changes, or a working directory goes away', async () => {
    const a = setup()
    await compile(a.path, a.layout)
    writeFileSync(join(a.dir, 'app.env'), 'A=22\n')
    expect(fromCopy(a.path, a.state, NOW)).toBeUndefined()

    const b = setup()
    await compile(b.path, b.layout)
    rmSync(join(b.dir, 'work'), {recursive: true})
    expect(fromCopy(b.path, b.state, NOW)).toBeUndefined()
  })

  it('carries the load warnings, to be printed as before', async () => {
    const {path, state, layout} = setup('[tasks.slow]\nrun = "true"\ntimeout = 30\n')
    await compile(path, layout)
    const result = loadConfigFile(path)
    expect(result.warnings.length).toBeGreaterThan(0)
    expect(readCompiledConfig(path, state)?.warnings).toEqual(result.warnings)
  })

  it('is found in the state_dir the file names', async () => {
    const {dir, path} = setup('[daemon]\nstate_dir = "elsewhere"\n')
    mkdirSync(join(dir, 'elsewhere'))
    await compile(path, new StateLayout(join(dir, 'elsewhere')))
    const copy = readCompiledConfig(path, undefined)
    expect(copy?.layout.root).toBe(join(dir, 'elsewhere'))
  })

  it('is not used when it is missing or damaged', async () => {
    const {path, state, layout} = setup()
    expect(fromCopy(path, state, NOW)).toBeUndefined()
    await compile(path, layout)
    writeFileSync(layout.compiledConfigFile, '{"format":1')
    expect(fromCopy(path, state, NOW)).toBeUndefined()
  })
})
