import {createHash} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {open, rename} from 'node:fs/promises'
import {homedir} from 'node:os'
import {type Config, type ConfigIssue, stateDirSetting} from '../config/load.js'
import {TaskJsonTemplate} from '../config/task-json.js'
import {hostZone} from '../cron/zone.js'
import type {Unit} from '../core/types.js'
import {VERSION} from '../core/version.js'
import {type KnownNextRun, NextRuns, type ScheduleText} from '../engine/next-runs.js'
import {StateLayout} from './layout.js'
import {resolveStateDir} from './location.js'

/**
 * The daemon's compiled copy of its config (STATE/compiled.json), so that `sched list --json`
 * answers without parsing and validating a large file again. It holds each unit's task JSON
 * (the same template GET /api/tasks renders) and the next run the daemon computed, and it is
 * used only while everything the load depended on is unchanged: the file (size, mtime and
 * content hash), the env and secrets files and working directories it named, and the host
 * facts the loader reads (zone, home, root or not, the cluster URL variable). Anything else and
 * the command loads the file as before, so a stale copy costs time, never a wrong answer.
 */
const FORMAT = 1

interface Key {
  readonly sched: string
  readonly config: {readonly path: string; readonly size: number; readonly mtimeMs: number; readonly sha256: string}
  /** Each file or directory the units name, with what stat said of it. */
  readonly files: readonly (readonly [path: string, mark: string])[]
  readonly host: {readonly zone: string; readonly home: string; readonly root: boolean; readonly clusterUrl: boolean}
}

/** What next_run_at needs of a unit; its task JSON is on a line of its own after the header. */
interface CompiledUnit {
  readonly name: string
  readonly kind: Unit['kind']
  readonly timezone: string
  readonly schedule?: ScheduleText
  readonly next?: KnownNextRun
}

interface Header {
  readonly format: typeof FORMAT
  readonly key: Key
  readonly warnings: readonly ConfigIssue[]
  readonly count: number
}

/** What `sched list --json` needs, from the compiled copy. */
export interface CompiledConfig {
  readonly layout: StateLayout
  readonly warnings: readonly ConfigIssue[]
  /** Sorted by name, as in the config. */
  readonly units: readonly Pick<Unit, 'name' | 'kind'>[]
  /** Every unit's task JSON with its next run: the text of GET /api/tasks. */
  tasksJson(nextRuns: NextRuns, now: number): string
  nextRuns(everyAnchor: number | undefined): NextRuns
}

/*
 * The file is a JSON header line, then one line per unit: what next_run_at needs (JSON), META,
 * then its task JSON template, head and tail parted by HOLE. JSON text never holds a raw newline
 * or control character, so none can clash; reading it is a split, not a parse of every object.
 */
const META = '\u0002'
const HOLE = '\u0001'
/** Written in pieces of about this many characters: the daemon's heap never holds the whole copy. */
const CHUNK = 32_768

let writing: Promise<void> = Promise.resolve()

/**
 * Written by the daemon after each load (boot and reload): one writer, in order, atomically.
 * Each unit's line is made and written in turn, so a 1000-unit copy leaves no megabyte of
 * strings behind in the old generation (the daemon's idle size is a target).
 */
export function writeCompiledConfig(layout: StateLayout, config: Config, nextRuns: NextRuns, now: number): Promise<void> {
  writing = writing.catch(() => {}).then(() => write(layout.compiledConfigFile, config, nextRuns, now))
  return writing
}

async function write(path: string, config: Config, nextRuns: NextRuns, now: number): Promise<void> {
  const header: Header = {format: FORMAT, key: keyOf(config.path, readFileSync(config.path), config.inputs), warnings: config.warnings, count: config.units.length}
  const temp = `${path}.${process.pid}.tmp`
  const handle = await open(temp, 'w', 0o600)
  try {
    let chunk = JSON.stringify(header)
    for (const u of config.units) {
      const spec = config.schedules.get(u.name)
      const next = spec ? nextRuns.known(u.name, now) : undefined
      const meta: CompiledUnit = {name: u.name, kind: u.kind, timezone: u.timezone, ...(spec ? {schedule: {type: spec.type, source: spec.source}} : {}), ...(next ? {next} : {})}
      const template = TaskJsonTemplate.of(u)
      chunk += `\n${JSON.stringify(meta)}${META}${template.head}${HOLE}${template.tail}`
      if (chunk.length >= CHUNK) {
        await handle.write(chunk)
        chunk = ''
      }
    }
    await handle.write(chunk)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
}

/**
 * The compiled copy for the config at `path`, when it is current; undefined when there is none
 * or anything it depended on changed. `stateFlag` is --state-dir, as every command takes it.
 */
export function readCompiledConfig(path: string, stateFlag: string | undefined): CompiledConfig | undefined {
  let text: Buffer
  try {
    text = readFileSync(path)
  } catch {
    return undefined
  }
  // `[daemon] state_dir` decides where the copy is; only a file that mentions it needs a parse.
  const configured = text.includes('state_dir') ? stateDirSetting(path) : undefined
  const layout = new StateLayout(resolveStateDir({flag: stateFlag, configured}))
  let lines: string[]
  let header: Header
  try {
    lines = readFileSync(layout.compiledConfigFile, 'utf8').split('\n')
    header = JSON.parse(lines[0]) as Header
  } catch {
    return undefined
  }
  if (header.format !== FORMAT || lines.length !== header.count + 1) return undefined
  const now = keyOf(path, text, header.key.files.map(([file]) => file))
  if (JSON.stringify(now) !== JSON.stringify(header.key)) return undefined
  const units: CompiledUnit[] = []
  const templates: string[] = []
  for (let i = 1; i < lines.length; i++) {
    const at = lines[i].indexOf(META)
    units.push(JSON.parse(lines[i].slice(0, at)) as CompiledUnit)
    templates.push(lines[i].slice(at + 1))
  }
  return {
    layout,
    warnings: header.warnings,
    units,
    nextRuns(everyAnchor) {
      const runs = new NextRuns(
        units.flatMap((u) => (u.schedule ? [{name: u.name, timezone: u.timezone, schedule: u.schedule}] : [])),
        everyAnchor,
      )
      // An @every answer depends on the daemon's start, which may differ from the copy's.
      for (const u of units) if (u.next && u.schedule?.type === 'cron') runs.seed(u.name, u.next)
      return runs
    },
    tasksJson(nextRuns, at) {
      const body = units.map((u, i) => {
        const line = templates[i]
        const hole = line.indexOf(HOLE)
        return TaskJsonTemplate.restore(line.slice(0, hole), line.slice(hole + 1)).render(nextRuns.nextRunAt(u.name, at))
      })
      return `[${body.join(',')}]`
    },
  }
}

function keyOf(path: string, text: Buffer, files: readonly string[]): Key {
  const stat = statSync(path)
  return {
    sched: VERSION,
    config: {path, size: stat.size, mtimeMs: stat.mtimeMs, sha256: createHash('sha256').update(text).digest('hex')},
    files: files.map((file) => [file, mark(file)]),
    host: {zone: hostZone(), home: homedir(), root: process.getuid?.() === 0, clusterUrl: Boolean(process.env.SCHED_CLUSTER_URL)},
  }
}

function mark(file: string): string {
  try {
    const stat = statSync(file)
    return stat.isDirectory() ? 'dir' : `${stat.size}:${stat.mtimeMs}`
  } catch {
    return 'missing'
  }
}
