import {PARAM_KINDS, PARAM_TYPES, type Parameter, type ParamKind} from '../core/types.js'
import type {Path} from './toml.js'
import {suggest} from './suggest.js'
import {ENV_NAME, Invalid, bool, describe, isTable, nonEmpty, oneOf, str} from './values.js'

/**
 * Task parameters (SPEC §5): checked once when the config loads, resolved on every trigger by
 * a pure function before any run is stored.
 */

const PARAM_KEYS = ['key', 'kind', 'type', 'required', 'default', 'choices', 'allow_custom', 'description']
const TOKEN = /^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/
const LABEL = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

export type Report = (path: Path, message: string, hint?: string) => void

/** Strips the leading dashes by which `--region`, `-region` and `region` name the same parameter. */
export function bareKey(key: string): string {
  return key.replace(/^-+/, '')
}

export function readParameters(raw: unknown, scheduled: boolean, report: Report): Parameter[] {
  if (!Array.isArray(raw)) {
    report([], `expected an array of parameter tables, got ${describe(raw)}`, 'write [[tasks.NAME.parameters]] tables or parameters = [{ key = "...", kind = "env" }]')
    return []
  }
  const out: Parameter[] = []
  // By declaration index, not position in `out`: invalid entries are left out of `out`, and the
  // message must name the entry as the author numbered it.
  const seen = new Map<string, {index: number; key: string}>()
  raw.forEach((entry, i) => {
    const p = readParameter(entry, i, scheduled, report)
    if (!p) return
    const bare = bareKey(p.key)
    const earlier = seen.get(bare)
    if (earlier !== undefined) {
      report([i, 'key'], `duplicate parameter key "${p.key}" (parameter ${earlier.index} is "${earlier.key}")`, 'keys must be unique, with or without leading dashes')
      return
    }
    seen.set(bare, {index: i, key: p.key})
    out.push(p)
  })
  return out
}

function readParameter(entry: unknown, i: number, scheduled: boolean, report: Report): Parameter | undefined {
  if (!isTable(entry)) {
    report([i], `expected a parameter table, got ${describe(entry)}`)
    return undefined
  }
  let ok = true
  const fail = (key: string, message: string, hint?: string) => {
    report([i, key], message, hint)
    ok = false
  }
  const get = <T>(key: string, reader: (raw: unknown) => T | Invalid): T | undefined => {
    if (!(key in entry)) return undefined
    const v = reader(entry[key])
    if (v instanceof Invalid) {
      fail(key, v.message, v.hint)
      return undefined
    }
    return v
  }
  for (const key of Object.keys(entry)) {
    if (!PARAM_KEYS.includes(key)) {
      const near = suggest(key, PARAM_KEYS)
      fail(key, `unknown parameter field "${key}"`, near ? `did you mean "${near}"?` : `known fields: ${PARAM_KEYS.join(', ')}`)
    }
  }
  const key = get('key', nonEmpty)
  const kind = get('kind', oneOf(PARAM_KINDS))
  if (!('key' in entry)) fail('key', 'a parameter needs a key')
  if (!('kind' in entry)) fail('kind', 'a parameter needs a kind', `one of ${PARAM_KINDS.join(', ')}`)
  const type = get('type', oneOf(PARAM_TYPES)) ?? 'string'
  const required = get('required', bool) ?? false
  const allowCustom = get('allow_custom', bool) ?? false
  const description = get('description', str) ?? ''
  const choices = get('choices', readChoices)
  if (key === undefined || kind === undefined) return undefined

  checkKey(key, kind, fail)
  if (kind === 'flag') {
    for (const k of ['required', 'choices', 'type', 'allow_custom'] as const) {
      if (k in entry) fail(k, `a flag takes no ${k}`, 'a flag is either present (true) or absent (false)')
    }
  }
  if (allowCustom && choices === undefined && !('choices' in entry)) fail('allow_custom', 'allow_custom needs choices')
  if (type === 'number' && choices) {
    for (const c of choices) if (!isNumeric(c)) fail('choices', `choice "${c}" is not a number, but the parameter's type is number`)
  }

  let dflt: string | undefined
  if ('default' in entry) {
    const raw = entry.default
    if (kind === 'flag') {
      if (typeof raw === 'boolean') dflt = String(raw)
      else fail('default', `a flag's default must be true or false, got ${describe(raw)}`)
    } else if (typeof raw === 'string' || typeof raw === 'number') {
      dflt = String(raw)
      if (type === 'number' && !isNumeric(dflt)) fail('default', `default ${JSON.stringify(dflt)} is not a number, but the parameter's type is number`)
      if (choices && !allowCustom && !choices.includes(dflt)) {
        fail('default', `default "${dflt}" is not one of the choices ${choices.map((c) => `"${c}"`).join(', ')}`, 'add it to choices or set allow_custom = true')
      }
    } else {
      fail('default', `expected a string or a number, got ${describe(raw)}`)
    }
  } else if (kind === 'flag') {
    dflt = 'false'
  }
  if (required && dflt === undefined && scheduled) {
    fail('required', `required parameter "${key}" has no default, but this task also runs on its own (cron or run_on_start) with no one to supply it`, 'give it a default')
  }
  if (!ok) return undefined
  return {
    key,
    kind,
    type: kind === 'flag' ? 'string' : type,
    required,
    default: dflt,
    choices,
    allow_custom: allowCustom,
    description,
  }
}

function checkKey(key: string, kind: ParamKind, fail: (key: string, message: string, hint?: string) => void): void {
  switch (kind) {
    case 'env':
      if (!ENV_NAME.test(key)) fail('key', `"${key}" is not a valid environment variable name`)
      else if (key.startsWith('SCHED_')) fail('key', `"${key}": the SCHED_ prefix is reserved for variables sched sets itself`)
      break
    case 'option':
    case 'flag':
      if (!TOKEN.test(key)) fail('key', `${kind === 'option' ? 'an option' : 'a flag'} key is the token it renders, starting with "-", got "${key}"`, `e.g. "--${bareKey(key) || 'name'}"`)
      break
    case 'arg':
      if (!LABEL.test(key)) fail('key', `an arg key is a label of letters, digits, "_", "." or "-", not starting with "-", got "${key}"`)
      break
  }
}

function readChoices(raw: unknown): string[] | Invalid {
  if (!Array.isArray(raw) || raw.length === 0) return new Invalid(`expected a non-empty array of strings, got ${describe(raw)}`)
  const out: string[] = []
  for (const c of raw) {
    if (typeof c !== 'string' && typeof c !== 'number') return new Invalid(`choices must be strings or numbers, got ${describe(c)}`)
    out.push(String(c))
  }
  return out
}

function isNumeric(text: string): boolean {
  return text.trim() !== '' && Number.isFinite(Number(text))
}

// ---------------------------------------------------------------------------------------------
// Resolution at trigger time

export type SuppliedValue = string | number | boolean
export type SuppliedParams = Readonly<Record<string, SuppliedValue>>

export interface ParamProblem {
  /** The parameter as the caller named it. */
  readonly key: string
  readonly message: string
  readonly value?: SuppliedValue
}

export interface ResolvedParams {
  /** key → value text (flags "true"/"false"), as stored on the run record. */
  readonly values: Readonly<Record<string, string>>
  readonly env: Readonly<Record<string, string>>
  /** The script's positional parameters ($1, "$@"), in declaration order. */
  readonly args: readonly string[]
}

export type Resolution = {readonly ok: true; readonly params: ResolvedParams} | {readonly ok: false; readonly problems: readonly ParamProblem[]}

/**
 * Checks supplied values against the declarations and renders them. Every problem is reported,
 * and nothing is stored by the caller unless this returns ok.
 */
export function resolveParams(declared: readonly Parameter[], supplied: SuppliedParams): Resolution {
  const problems: ParamProblem[] = []
  const byBare = new Map(declared.map((p) => [bareKey(p.key), p]))
  const given = new Map<Parameter, {key: string; value: SuppliedValue}>()
  for (const [key, value] of Object.entries(supplied)) {
    const p = byBare.get(bareKey(key))
    if (!p) {
      const near = suggest(bareKey(key), byBare.keys())
      const known = declared.length ? `known: ${declared.map((d) => d.key).join(', ')}` : 'this task declares no parameters'
      problems.push({key, value, message: `unknown parameter "${key}"${near ? ` (did you mean "${byBare.get(near)!.key}"?)` : ''}; ${known}`})
      continue
    }
    if (given.has(p)) {
      problems.push({key, value, message: `parameter "${p.key}" given twice`})
      continue
    }
    given.set(p, {key, value})
  }

  const values: Record<string, string> = {}
  for (const p of declared) {
    const g = given.get(p)
    if (!g) {
      if (p.default !== undefined) values[p.key] = p.default
      else if (p.required) problems.push({key: p.key, message: `missing required parameter "${p.key}"`})
      continue
    }
    const checked = checkValue(p, g.value)
    if (checked instanceof Invalid) problems.push({key: g.key, value: g.value, message: `parameter "${p.key}": ${checked.message}`})
    else values[p.key] = checked
  }
  if (problems.length) return {ok: false, problems}
  return {ok: true, params: render(declared, values)}
}

function checkValue(p: Parameter, value: SuppliedValue): string | Invalid {
  if (p.kind === 'flag') {
    if (value === true || value === 'true') return 'true'
    if (value === false || value === 'false') return 'false'
    return new Invalid(`a flag takes true or false, got ${describe(value)}`)
  }
  if (typeof value === 'boolean') {
    return new Invalid(`needs a value: --param ${bareKey(p.key)}=VALUE`)
  }
  const text = String(value)
  if (p.type === 'number' && !isNumeric(text)) return new Invalid(`expected a number, got ${describe(value)}`)
  if (p.choices && !p.allow_custom && !p.choices.includes(text)) {
    return new Invalid(`"${text}" is not one of ${p.choices.map((c) => `"${c}"`).join(', ')}`)
  }
  return text
}

function render(declared: readonly Parameter[], values: Record<string, string>): ResolvedParams {
  const env: Record<string, string> = {}
  const tokens: {text: string | undefined; arg: boolean}[] = []
  for (const p of declared) {
    const v = values[p.key]
    if (p.kind === 'env') {
      if (v !== undefined) env[p.key] = v
    } else if (p.kind === 'arg') {
      tokens.push({text: v, arg: true})
    } else if (v !== undefined && (p.kind === 'option' || v === 'true')) {
      tokens.push({text: p.key, arg: false})
      if (p.kind === 'option') tokens.push({text: v, arg: false})
    }
  }
  // An omitted optional arg keeps its place as "" only when a later arg needs the position.
  const lastGivenArg = tokens.findLastIndex((t) => t.arg && t.text !== undefined)
  const args = tokens.flatMap((t, i) => (t.text !== undefined ? [t.text] : i < lastGivenArg ? [''] : []))
  return {values, env, args}
}

/** Parses CLI `--param k=v` / bare `--param flag` tokens into supplied values. */
export function parseParamFlags(tokens: readonly string[]): SuppliedParams {
  const out: Record<string, SuppliedValue> = {}
  for (const token of tokens) {
    const eq = token.indexOf('=')
    if (eq === -1) out[token] = true
    else out[token.slice(0, eq)] = token.slice(eq + 1)
  }
  return out
}
