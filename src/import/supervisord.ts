import {hostname} from 'node:os'
import {dirname} from 'node:path'
import {shellQuote} from '../config/compose-command.js'
import {NS, formatDuration} from '../core/duration.js'
import {type IniEntry, type IniSection, parseIni} from './ini.js'
import type {ImportResult, ImportedUnit, InputError, TomlValue, Unmapped} from './model.js'
import {shellWords} from './shell-words.js'

/**
 * A supervisord config as sched services (SPEC §10): each `[program:x]` is a service, `[group:g]`
 * names the group of its programs. supervisord starts a program without a shell, so the
 * command's words are quoted back into one `exec …` line: the program is the run's process, as
 * it was supervisord's child. `%(program_name)s`-style expansions are resolved: those that vary
 * per instance or host become shell expansions (`%(process_num)02d` reads SCHED_INSTANCE).
 * Where supervisord's defaults differ from sched's (startsecs 1, stopwaitsecs 10), the
 * supervisord value is written, so programs behave as they did.
 */

export interface SupervisordOptions {
  readonly source: string
  /** Absolute path of the file, for `%(here)s`. */
  readonly path: string
  /** For `%(ENV_X)s` outside the command, as supervisord expands them when it starts. */
  readonly env?: NodeJS.ProcessEnv
}

const SIGNALS = new Set(['TERM', 'HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2'])
const OWN_SECTIONS: Record<string, string> = {
  supervisord: "sched serve is the daemon; its settings live in sched.toml's [daemon] table",
  unix_http_server: "sched's CLI reaches the daemon through its state directory",
  inet_http_server: "sched's HTTP API listens on [daemon] host and port",
  supervisorctl: "the sched command is the client (sched status, sched restart NAME)",
}
const LOG_KEYS = /^(redirect_stderr|std(out|err)_(logfile|logfile_maxbytes|logfile_backups|capture_maxbytes|events_enabled|syslog))$/
/** Keys whose effect sched already has, or that only concern supervisord: nothing to say. */
const SILENT = new Set(['stopasgroup', 'killasgroup', 'process_name', 'numprocs_start'])

export function convertSupervisord(text: string, options: SupervisordOptions): ImportResult {
  const {source} = options
  const env = options.env ?? process.env
  const {sections, errors} = parseIni(text, source)
  const unmapped: Unmapped[] = []
  if (errors.length) return {units: [], unmapped, errors}

  const groups = new Map<string, string>()
  for (const section of sections) {
    if (!section.name.startsWith('group:')) continue
    const group = section.name.slice('group:'.length)
    const programs = section.entries.find((e) => e.key === 'programs')
    for (const program of programs?.value.split(',').map((p) => p.trim()).filter(Boolean) ?? []) groups.set(program, group)
    for (const e of section.entries) if (e.key !== 'programs') unmapped.push({source, line: e.line, what: `[${section.name}] ${e.key}`, why: "sched orders services by each one's priority"})
  }
  const globalEnv = sections.find((s) => s.name === 'supervisord')?.entries.find((e) => e.key === 'environment')

  const units: ImportedUnit[] = []
  for (const section of sections) {
    const [type, name] = section.name.includes(':') ? [section.name.slice(0, section.name.indexOf(':')), section.name.slice(section.name.indexOf(':') + 1)] : [section.name, '']
    if (type === 'program') {
      const unit = programUnit(section, name, groups.get(name) ?? '', globalEnv, {source, dir: dirname(options.path), env, errors, unmapped})
      if (unit) units.push(unit)
    } else if (type === 'group') continue
    else if (OWN_SECTIONS[type]) {
      if (type !== 'supervisord' || section.entries.some((e) => e.key !== 'environment')) unmapped.push({source, line: section.line, what: `[${section.name}]`, why: OWN_SECTIONS[type]})
    } else if (type === 'include') unmapped.push({source, line: section.line, what: `[include] ${section.entries.map((e) => e.value).join(' ')}`, why: 'import each included file too, with sched import supervisord FILE --merge sched.toml'})
    else unmapped.push({source, line: section.line, what: `[${section.name}]`, why: type === 'rpcinterface' ? 'sched has no RPC plugins; its HTTP API is built in' : `sched has no ${type} sections; only [program:x] and [group:x] are imported`})
  }
  return {units, unmapped, errors}
}

interface Context {
  readonly source: string
  readonly dir: string
  readonly env: NodeJS.ProcessEnv
  readonly errors: InputError[]
  readonly unmapped: Unmapped[]
}

function programUnit(section: IniSection, name: string, group: string, globalEnv: IniEntry | undefined, ctx: Context): ImportedUnit | undefined {
  const {source} = ctx
  const entries = new Map(section.entries.map((e) => [e.key, e]))
  const errorCount = ctx.errors.length
  const fail = (line: number, message: string) => ctx.errors.push({source, line, message: `[program:${name}] ${message}`})
  const numprocs = integer(entries.get('numprocs'), 1, fail)
  const start = integer(entries.get('numprocs_start'), 0, fail)
  const vars: Expansions = {program_name: name, group_name: group || name, numprocs: String(numprocs), here: ctx.dir, host_node_name: hostname()}
  const fields: Record<string, TomlValue> = {}
  const keyLines: Record<string, number> = {}
  const set = (key: string, value: TomlValue, entry: IniEntry) => {
    fields[key] = value
    keyLines[key] = entry.line
  }

  if (section.comments.length) fields.description = section.comments.join(' ')
  const command = entries.get('command')
  if (!command) fail(section.line, 'has no command')
  else {
    const run = commandLine(command.value, vars, start, (m) => fail(command.line, m))
    if (run !== undefined) set('run', run, command)
  }
  if (group) fields.group = group
  const expandStatic = (entry: IniEntry): string | undefined => staticValue(entry.value, vars, ctx.env, (m) => fail(entry.line, m))

  for (const entry of section.entries) {
    const {key} = entry
    switch (key) {
      case 'command':
      case 'numprocs_start':
        break
      case 'numprocs':
        if (numprocs !== 1) set('instances', numprocs, entry)
        break
      case 'directory': {
        const dir = expandStatic(entry)
        if (dir !== undefined) set('working_dir', dir, entry)
        break
      }
      case 'user': {
        const user = expandStatic(entry)
        if (user !== undefined) set('user', user, entry)
        break
      }
      case 'umask':
        set('umask', entry.value.trim().padStart(3, '0'), entry)
        break
      case 'environment':
        break
      case 'autostart':
        set('autostart', boolean(entry, fail), entry)
        break
      case 'autorestart': {
        const value = entry.value.trim().toLowerCase()
        const restart = value === 'unexpected' ? 'on_failure' : boolean(entry, fail) ? 'always' : 'never'
        set('restart', restart, entry)
        break
      }
      case 'exitcodes':
        set('exit_codes', entry.value.split(',').map((c) => Number(c.trim())), entry)
        break
      case 'startsecs':
      case 'startretries':
      case 'stopwaitsecs':
      case 'priority':
        break
      case 'stopsignal': {
        const signal = entry.value.trim().toUpperCase().replace(/^SIG/, '')
        if (SIGNALS.has(signal)) set('stop_signal', `SIG${signal}`, entry)
        else fail(entry.line, `stopsignal must be one of ${[...SIGNALS].join(', ')}, got ${JSON.stringify(entry.value.trim())}`)
        break
      }
      default:
        if (SILENT.has(key)) break
        ctx.unmapped.push({
          source,
          line: entry.line,
          what: `[program:${name}] ${key}`,
          why: LOG_KEYS.test(key) ? "sched keeps each run's stdout and stderr in its log (sched logs NAME; log_max_size caps it)" : 'sched has no such setting',
        })
    }
  }
  // supervisord's defaults where they differ from sched's, so the program behaves as it did.
  const seconds = (key: string, fallback: number, field: string) => {
    const entry = entries.get(key)
    const n = entry ? integer(entry, fallback, fail) : fallback
    fields[field] = formatDuration(n * NS.s)
    if (entry) keyLines[field] = entry.line
  }
  seconds('startsecs', 1, 'healthy_after')
  const retries = entries.get('startretries')
  if (retries) set('start_retries', integer(retries, 3, fail), retries)
  seconds('stopwaitsecs', 10, 'graceful_stop')
  const priority = entries.get('priority')
  if (priority) set('priority', integer(priority, 999, fail), priority)

  const environment = {...parseEnvironment(globalEnv, vars, ctx, fail), ...parseEnvironment(entries.get('environment'), vars, ctx, fail)}
  if (Object.keys(environment).length) {
    fields.env = environment
    const own = entries.get('environment') ?? globalEnv
    if (own) keyLines.env = own.line
  }
  if (ctx.errors.length > errorCount) return undefined
  return {kind: 'service', name, source, line: section.line, comments: [`${source}:${section.line}: [${section.name}]`], fields, keyLines}
}

type Expansions = Record<string, string>
const EXPANSION = /%%|%\(([A-Za-z0-9_]+)\)([-#0 +]*\d*(?:\.\d+)?)([sdifrx])/g

/**
 * The command as one `exec` line for sh: each word quoted back, expansions that vary at run time
 * (process_num, host_node_name, ENV_X) left to the shell, the others written in.
 */
function commandLine(text: string, vars: Expansions, start: number, fail: (m: string) => void): string | undefined {
  const {commands, unbalanced} = shellWords(text.replace(/\n/g, ' '))
  if (unbalanced) {
    fail('command has an unbalanced quote')
    return undefined
  }
  const words = commands[0] ?? []
  if (!words.length) {
    fail('command is empty')
    return undefined
  }
  let ok = true
  const quoted = words.map((word) => {
    let dynamic = false
    const parts: string[] = []
    let last = 0
    for (const m of word.matchAll(EXPANSION)) {
      parts.push(escapeDouble(word.slice(last, m.index)))
      last = m.index! + m[0].length
      if (m[0] === '%%') {
        parts.push('%')
        continue
      }
      const [, name, flags, conversion] = m
      const runtime = runtimeExpansion(name, `${flags}${conversion}`, start)
      if (runtime !== undefined) {
        dynamic = true
        parts.push(runtime)
      } else if (name in vars) parts.push(escapeDouble(format(vars[name], flags, conversion)))
      else {
        fail(`command: unknown expansion %(${name})${conversion}`)
        ok = false
      }
    }
    if (!dynamic) return shellQuote(word.replace(EXPANSION, (all, name: string, flags: string, conversion: string) => (all === '%%' ? '%' : format(vars[name] ?? '', flags, conversion))))
    parts.push(escapeDouble(word.slice(last)))
    return `"${parts.join('')}"`
  })
  return ok ? `exec ${quoted.join(' ')}` : undefined
}

/** The shell text for an expansion that is only known when the instance runs. */
function runtimeExpansion(name: string, spec: string, start: number): string | undefined {
  if (name === 'process_num') {
    const value = start ? `$((SCHED_INSTANCE + ${start}))` : '${SCHED_INSTANCE}'
    return spec === 's' || spec === 'd' ? value : `$(printf ${shellQuote(`%${spec}`)} "${value}")`
  }
  if (name === 'host_node_name') return '$(uname -n)'
  if (name.startsWith('ENV_')) return `\${${name.slice(4)}}`
  return undefined
}

/** A value outside the command: every expansion written in, as supervisord does when it starts. */
function staticValue(text: string, vars: Expansions, env: NodeJS.ProcessEnv, fail: (m: string) => void): string | undefined {
  let ok = true
  const out = text.trim().replace(EXPANSION, (all, name: string, flags: string, conversion: string) => {
    if (all === '%%') return '%'
    if (name === 'process_num') {
      fail('%(process_num) differs per instance; sched gives each one SCHED_INSTANCE in its environment instead')
      ok = false
      return ''
    }
    const value = name.startsWith('ENV_') ? env[name.slice(4)] : vars[name]
    if (value === undefined) {
      fail(name.startsWith('ENV_') ? `${name.slice(4)} is not set in this environment (for %(${name})${conversion})` : `unknown expansion %(${name})${conversion}`)
      ok = false
      return ''
    }
    return format(value, flags, conversion)
  })
  return ok ? out : undefined
}

/** `environment=A="1",B="x,y"`: comma-separated KEY=VALUE pairs, values optionally quoted. */
function parseEnvironment(entry: IniEntry | undefined, vars: Expansions, ctx: Context, fail: (line: number, m: string) => void): Record<string, string> {
  if (!entry) return {}
  const out: Record<string, string> = {}
  const pairs: string[] = []
  let current = ''
  let quote = ''
  for (const c of entry.value.replace(/\n/g, ',')) {
    if (quote) {
      if (c === quote) quote = ''
      else current += c
    } else if (c === '"' || c === "'") quote = c
    else if (c === ',') {
      pairs.push(current)
      current = ''
    } else current += c
  }
  pairs.push(current)
  for (const pair of pairs.map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=')
    if (eq <= 0) {
      fail(entry.line, `environment: expected KEY=VALUE pairs separated by commas, got ${JSON.stringify(pair)}`)
      continue
    }
    const value = staticValue(pair.slice(eq + 1), vars, ctx.env, (m) => fail(entry.line, `environment: ${m}`))
    if (value !== undefined) out[pair.slice(0, eq).trim()] = value
  }
  return out
}

/** Python's %-format for the conversions supervisord configs use (`s`, `d` with width/zeros). */
function format(value: string, flags: string, conversion: string): string {
  const width = Number(/\d+/.exec(flags)?.[0] ?? 0)
  const pad = flags.includes('0') && conversion !== 's' ? '0' : ' '
  return flags.includes('-') ? value.padEnd(width, ' ') : value.padStart(width, pad)
}

function escapeDouble(text: string): string {
  return text.replace(/["\\$`]/g, (c) => `\\${c}`)
}

function integer(entry: IniEntry | undefined, fallback: number, fail: (line: number, m: string) => void): number {
  if (!entry) return fallback
  const n = Number(entry.value.trim())
  if (!Number.isInteger(n)) {
    fail(entry.line, `${entry.key} must be an integer, got ${JSON.stringify(entry.value.trim())}`)
    return fallback
  }
  return n
}

/** supervisord's booleans: true/false, yes/no, on/off, 1/0. */
function boolean(entry: IniEntry, fail: (line: number, m: string) => void): boolean {
  const value = entry.value.trim().toLowerCase()
  if (['true', 'yes', 'on', '1'].includes(value)) return true
  if (['false', 'no', 'off', '0'].includes(value)) return false
  fail(entry.line, `${entry.key} must be true or false, got ${JSON.stringify(entry.value.trim())}`)
  return false
}
