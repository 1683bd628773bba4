import {createHash} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {type Config, type ConfigIssue, stateDirSetting} from '../config/load.js'
import {TaskJsonTemplate} from '../config/task-json.js'
import {hostZone} from '../cron/zone.js'
import type {Unit} from '../core/types.js'
import {VERSION} from '../core/version.js'
import {type KnownNextRun, NextRuns, type ScheduleText} from '../engine/next-runs.js'
import {writeFileAtomic} from './atomic.js'
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
  readonly units: readonly CompiledUnit[]
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
 * The file is a JSON header line, then one line per unit: its task JSON template, head and tail
 * parted by HOLE. JSON text never holds a raw newline or control character, so neither can
 * clash; reading it is a split, not a parse of every object.
 */
const HOLE = '\u0001'

/** Written by the daemon after each load (boot and reload): one writer, atomically. */
export async function writeCompiledConfig(layout: StateLayout, config: Config, nextRuns: NextRuns, now: number): Promise<void> {
  const units: CompiledUnit[] = []
  const lines: string[] = []
  for (const u of config.units) {
    const template = TaskJsonTemplate.of(u)
    lines.push(`${template.head}${HOLE}${template.tail}`)
    const spec = config.schedules.get(u.name)
    const next = spec ? nextRuns.known(u.name, now) : undefined
    units.push({name: u.name, kind: u.kind, timezone: u.timezone, ...(spec ? {schedule: {type: spec.type, source: spec.source}} : {}), ...(next ? {next} : {})})
  }
  const header: Header = {format: FORMAT, key: keyOf(config.path, readFileSync(config.path), config.inputs), warnings: config.warnings, units}
  await writeFileAtomic(layout.compiledConfigFile, [JSON.stringify(header), ...lines].join('\n'))
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
  if (header.format !== FORMAT || lines.length !== header.units.length + 1) return undefined
  const now = keyOf(path, text, header.key.files.map(([file]) => file))
  if (JSON.stringify(now) !== JSON.stringify(header.key)) return undefined
  return {
    layout,
    warnings: header.warnings,
    units: header.units,
    nextRuns(everyAnchor) {
      const runs = new NextRuns(
        header.units.flatMap((u) => (u.schedule ? [{name: u.name, timezone: u.timezone, schedule: u.schedule}] : [])),
        everyAnchor,
      )
      // An @every answer depends on the daemon's start, which may differ from the copy's.
      for (const u of header.units) if (u.next && u.schedule?.type === 'cron') runs.seed(u.name, u.next)
      return runs
    },
    tasksJson(nextRuns, at) {
      const body = header.units.map((u, i) => {
        const line = lines[i + 1]
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
