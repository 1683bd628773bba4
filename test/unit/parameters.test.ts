import {describe, expect, it} from 'vitest'
import {type ConfigIssue, type LoadOptions, loadConfigText} from '../../src/config/load.js'
import {bareKey, parseParamFlags, resolveParams} from '../../src/config/parameters.js'
import type {Parameter} from '../../src/core/types.js'

const OPTIONS: LoadOptions = {isRoot: false, hostZone: 'UTC', home: '/home/tester'}
const PATH = '/srv/sched/sched.toml'

function load(text: string) {
  return loadConfigText(text, PATH, OPTIONS)
}

function paramsOf(text: string, task = 't'): readonly Parameter[] {
  const result = load(text)
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.key} ${e.line}:${e.column} ${e.message}`).join('\n'))
  const unit = result.config.units.find((u) => u.name === task)
  if (!unit) throw new Error(`no task ${task}`)
  return unit.parameters
}

function errorsOf(text: string): readonly ConfigIssue[] {
  const result = load(text)
  if (result.ok) throw new Error('expected load errors, but the config loaded')
  return result.errors
}

/** Line and column (1-based) of the `nth` occurrence (0-based) of `needle` in `text`. */
function pos(text: string, needle: string, nth = 0): {line: number; column: number} {
  let offset = -1
  for (let i = 0; i <= nth; i++) {
    offset = text.indexOf(needle, offset + 1)
    if (offset === -1) throw new Error(`${needle} (#${nth}) not in text`)
  }
  const before = text.slice(0, offset).split('\n')
  return {line: before.length, column: before.at(-1)!.length + 1}
}

/**
 * A task whose parameters are written one inline table per line, starting on line 4:
 * entry i sits on line 4 + i, and its first key at column 3.
 */
function inlineTask(entries: string[], header = ''): string {
  return `[tasks.t]\nrun = "true"\n${header}parameters = [\n${entries.map((e) => `  { ${e} },`).join('\n')}\n]\n`
}

function expectOnlyError(text: string, key: string, at: {line: number; column: number}, message: string, hint?: string): void {
  const errors = errorsOf(text)
  expect(errors.map((e) => `${e.key} ${e.line}:${e.column} ${e.message}`)).toHaveLength(1)
  expect(errors[0]).toMatchObject({key, ...at})
  expect(errors[0].message).toContain(message)
  if (hint !== undefined) expect(errors[0].hint).toContain(hint)
}

const param = (key: string, kind: Parameter['kind'], more: Partial<Parameter> = {}): Parameter => ({
  key,
  kind,
  type: 'string',
  required: false,
  allow_custom: false,
  description: '',
  ...(kind === 'flag' ? {default: 'false'} : {}),
  ...more,
})

// ---------------------------------------------------------------------------------------------

describe('reading parameters', () => {
  const EXPECTED: Parameter[] = [
    {key: 'REGION', kind: 'env', type: 'string', required: true, default: 'eu', choices: ['eu', 'us'], allow_custom: false, description: 'where to run'},
    {key: 'target', kind: 'arg', type: 'string', required: false, default: undefined, choices: undefined, allow_custom: false, description: ''},
    {key: '--count', kind: 'option', type: 'number', required: false, default: '3', choices: ['1', '3', '5'], allow_custom: true, description: ''},
    {key: '--dry-run', kind: 'flag', type: 'string', required: false, default: 'false', choices: undefined, allow_custom: false, description: 'no changes'},
    {key: '-v', kind: 'flag', type: 'string', required: false, default: 'true', choices: undefined, allow_custom: false, description: ''},
  ]

  it('parameters = [{...}] syntax', () => {
    const text = `[tasks.t]
run = "true"
parameters = [
  { key = "REGION", kind = "env", required = true, default = "eu", choices = ["eu", "us"], description = "where to run" },
  { key = "target", kind = "arg" },
  { key = "--count", kind = "option", type = "number", default = 3, choices = [1, 3, 5], allow_custom = true },
  { key = "--dry-run", kind = "flag", description = "no changes" },
  { key = "-v", kind = "flag", default = true },
]
`
    expect(paramsOf(text)).toStrictEqual(EXPECTED)
  })

  it('[[tasks.X.parameters]] syntax gives the same parameters', () => {
    const text = `[tasks.t]
run = "true"

[[tasks.t.parameters]]
key = "REGION"
kind = "env"
required = true
default = "eu"
choices = ["eu", "us"]
description = "where to run"

[[tasks.t.parameters]]
key = "target"
kind = "arg"

[[tasks.t.parameters]]
key = "--count"
kind = "option"
type = "number"
default = 3
choices = [1, 3, 5]
allow_custom = true

[[tasks.t.parameters]]
key = "--dry-run"
kind = "flag"
description = "no changes"

[[tasks.t.parameters]]
key = "-v"
kind = "flag"
default = true
`
    expect(paramsOf(text)).toStrictEqual(EXPECTED)
  })

  it('a task without parameters has none; an empty list is fine', () => {
    expect(paramsOf('[tasks.t]\nrun = "true"\n')).toStrictEqual([])
    expect(paramsOf('[tasks.t]\nrun = "true"\nparameters = []\n')).toStrictEqual([])
  })

  it('errors in [[tasks.X.parameters]] tables point at the key inside the right table', () => {
    const text = `[tasks.t]
run = "true"
[[tasks.t.parameters]]
key = "A"
kind = "env"
[[tasks.t.parameters]]
key = "b"
kind = "flg"
`
    expect(errorsOf(text)).toStrictEqual([
      {key: 'tasks.t.parameters[1].kind', line: 8, column: 1, message: 'must be one of "env", "arg", "option", "flag", got the string "flg"'},
    ])
  })

  it('errors in inline tables point at the key inside the right element', () => {
    const text = inlineTask(['key = "A", kind = "env"', 'key = "b", kind = "flg"'])
    expect(pos(text, 'kind', 1)).toStrictEqual({line: 5, column: 16})
    expect(errorsOf(text)).toStrictEqual([{key: 'tasks.t.parameters[1].kind', line: 5, column: 16, message: expect.stringContaining('got the string "flg"')}])
  })
})

describe('load-time parameter rules', () => {
  describe('unique keys', () => {
    it.each<[string, string, string]>([
      ['key = "REGION", kind = "env"', 'key = "REGION", kind = "env"', 'duplicate parameter key "REGION" (parameter 0 is "REGION")'],
      ['key = "--region", kind = "option"', 'key = "-region", kind = "option"', 'duplicate parameter key "-region" (parameter 0 is "--region")'],
      ['key = "region", kind = "arg"', 'key = "--region", kind = "option"', 'duplicate parameter key "--region" (parameter 0 is "region")'],
      ['key = "--verbose", kind = "flag"', 'key = "verbose", kind = "arg"', 'duplicate parameter key "verbose" (parameter 0 is "--verbose")'],
    ])('%s then %s', (first, second, message) => {
      const text = inlineTask([first, second])
      expectOnlyError(text, 'tasks.t.parameters[1].key', {line: 5, column: 5}, message, 'keys must be unique, with or without leading dashes')
    })

    it('names the earlier parameter by its index in the file, even after an invalid entry', () => {
      const text = inlineTask(['key = "X", kind = "nope"', 'key = "A", kind = "env"', 'key = "A", kind = "env"'])
      const errors = errorsOf(text)
      expect(errors.map((e) => [e.key, e.line, e.column, e.message])).toStrictEqual([
        ['tasks.t.parameters[0].kind', 4, 16, 'must be one of "env", "arg", "option", "flag", got the string "nope"'],
        ['tasks.t.parameters[2].key', 6, 5, 'duplicate parameter key "A" (parameter 1 is "A")'],
      ])
    })

    it('keys differing only in case are distinct', () => {
      expect(paramsOf(inlineTask(['key = "region", kind = "env"', 'key = "REGION", kind = "env"'])).map((p) => p.key)).toStrictEqual(['region', 'REGION'])
    })
  })

  describe('keys by kind', () => {
    it.each<[string, string]>([
      ['env', 'REGION'],
      ['env', '_private'],
      ['env', 'region2'],
      ['env', 'SCHEDULE'], // the reserved prefix is SCHED_, with the underscore
      ['arg', 'target'],
      ['arg', 'file.name'],
      ['arg', '1st'],
      ['option', '--region'],
      ['option', '-r'],
      ['option', '--a.b_c-d'],
      ['flag', '--dry-run'],
      ['flag', '-v'],
    ])('%s key %j is accepted', (kind, key) => {
      expect(paramsOf(inlineTask([`key = "${key}", kind = "${kind}"`]))[0]).toMatchObject({key, kind})
    })

    it.each<[string, string, string, string?]>([
      ['env', '1REGION', '"1REGION" is not a valid environment variable name'],
      ['env', 'MY-VAR', '"MY-VAR" is not a valid environment variable name'],
      ['env', 'MY VAR', '"MY VAR" is not a valid environment variable name'],
      ['env', '--REGION', '"--REGION" is not a valid environment variable name'],
      ['env', 'SCHED_TOKEN', '"SCHED_TOKEN": the SCHED_ prefix is reserved for variables sched sets itself'],
      ['env', 'SCHED_', 'the SCHED_ prefix is reserved'],
      ['option', 'region', 'key is the token it renders, starting with "-", got "region"', 'e.g. "--region"'],
      ['option', '--', 'key is the token it renders, starting with "-", got "--"', 'e.g. "--name"'],
      ['option', '---x', 'starting with "-", got "---x"'],
      ['option', '--a b', 'starting with "-", got "--a b"'],
      ['flag', 'dry-run', 'key is the token it renders, starting with "-", got "dry-run"', 'e.g. "--dry-run"'],
      ['arg', '-x', 'an arg key is a label of letters, digits, "_", "." or "-", not starting with "-", got "-x"'],
      ['arg', 'two words', 'an arg key is a label'],
    ])('%s key %j is rejected', (kind, key, message, hint) => {
      const text = inlineTask([`key = "${key}", kind = "${kind}"`])
      expectOnlyError(text, 'tasks.t.parameters[0].key', {line: 4, column: 5}, message, hint)
    })

    it('an empty key is rejected', () => {
      expectOnlyError(inlineTask(['key = "", kind = "env"']), 'tasks.t.parameters[0].key', {line: 4, column: 5}, 'must not be empty')
    })
  })

  describe('flags', () => {
    it.each<[string, string]>([
      ['required', 'required = false'],
      ['choices', 'choices = ["a"]'],
      ['type', 'type = "string"'],
      ['allow_custom', 'allow_custom = false'],
    ])('take no %s', (field, entry) => {
      const text = inlineTask([`key = "--f", kind = "flag", ${entry}`])
      expectOnlyError(text, `tasks.t.parameters[0].${field}`, pos(text, `${field} =`), `a flag takes no ${field}`, 'a flag is either present (true) or absent (false)')
    })

    it.each<[string, string | undefined]>([
      ['', 'false'],
      [', default = false', 'false'],
      [', default = true', 'true'],
    ])('default%s → %j', (extra, dflt) => {
      expect(paramsOf(inlineTask([`key = "--f", kind = "flag"${extra}`]))[0].default).toBe(dflt)
    })

    it.each(['"true"', '1', '"yes"'])('default = %s is not a boolean', (value) => {
      const text = inlineTask([`key = "--f", kind = "flag", default = ${value}`])
      expectOnlyError(text, 'tasks.t.parameters[0].default', {line: 4, column: 33}, "a flag's default must be true or false, got")
    })
  })

  describe('choices and allow_custom', () => {
    it('allow_custom needs choices', () => {
      const text = inlineTask(['key = "--region", kind = "option", allow_custom = true'])
      expectOnlyError(text, 'tasks.t.parameters[0].allow_custom', pos(text, 'allow_custom'), 'allow_custom needs choices')
    })

    it('allow_custom = false without choices is harmless', () => {
      expect(paramsOf(inlineTask(['key = "--region", kind = "option", allow_custom = false']))[0].allow_custom).toBe(false)
    })

    it.each<[string, string]>([
      ['choices = []', 'expected a non-empty array of strings, got an array'],
      ['choices = "eu"', 'expected a non-empty array of strings, got the string "eu"'],
      ['choices = [true]', 'choices must be strings or numbers, got the boolean true'],
    ])('%s is rejected', (entry, message) => {
      const text = inlineTask([`key = "R", kind = "env", ${entry}`])
      expectOnlyError(text, 'tasks.t.parameters[0].choices', {line: 4, column: 30}, message)
    })

    it('numeric choices are kept as text', () => {
      expect(paramsOf(inlineTask(['key = "N", kind = "env", type = "number", choices = [1, 2.5, "3"]']))[0].choices).toStrictEqual(['1', '2.5', '3'])
    })
  })

  describe('defaults satisfy their own rules', () => {
    it.each<[string, string]>([
      ['type = "number", default = "abc"', 'is not a number, but the parameter\'s type is number'],
      ['type = "number", default = ""', 'is not a number'],
      ['choices = ["eu", "us"], default = "mars"', 'default "mars" is not one of the choices "eu", "us"'],
      ['choices = [1, 2], type = "number", default = 3', 'default "3" is not one of the choices "1", "2"'],
      ['default = true', 'expected a string or a number, got the boolean true'],
      ['default = ["eu"]', 'expected a string or a number, got an array'],
    ])('%s is rejected', (entry, message) => {
      const text = inlineTask([`key = "R", kind = "env", ${entry}`])
      expectOnlyError(text, 'tasks.t.parameters[0].default', pos(text, 'default'), message)
    })

    it('a default outside choices points to allow_custom', () => {
      const errors = errorsOf(inlineTask(['key = "R", kind = "env", choices = ["eu"], default = "mars"']))
      expect(errors[0].hint).toBe('add it to choices or set allow_custom = true')
    })

    it('choices that are not numbers under type = "number" are rejected', () => {
      const text = inlineTask(['key = "N", kind = "env", type = "number", choices = ["1", "two"]'])
      expectOnlyError(text, 'tasks.t.parameters[0].choices', pos(text, 'choices'), 'choice "two" is not a number, but the parameter\'s type is number')
    })

    it.each<[string, string]>([
      ['type = "number", default = 42', '42'],
      ['type = "number", default = "-1.5"', '-1.5'],
      ['choices = ["eu", "us"], default = "us"', 'us'],
      ['choices = ["eu"], allow_custom = true, default = "mars"', 'mars'],
      ['default = ""', ''],
    ])('%s is accepted', (entry, dflt) => {
      expect(paramsOf(inlineTask([`key = "R", kind = "env", ${entry}`]))[0].default).toBe(dflt)
    })
  })

  describe('required parameters on tasks that run on their own', () => {
    it.each<[string, string]>([
      ['cron', 'cron = "@daily"\n'],
      ['run_on_start', 'run_on_start = true\n'],
      ['@every', 'cron = "@every 10m"\n'],
    ])('need a default on a %s task', (_, header) => {
      const text = inlineTask(['key = "REGION", kind = "env", required = true'], header)
      expectOnlyError(
        text,
        'tasks.t.parameters[0].required',
        pos(text, 'required'),
        'required parameter "REGION" has no default, but this task also runs on its own (cron or run_on_start) with no one to supply it',
        'give it a default',
      )
    })

    it('are fine with a default on a cron task', () => {
      const text = inlineTask(['key = "REGION", kind = "env", required = true, default = "eu"'], 'cron = "@daily"\n')
      expect(paramsOf(text)[0]).toMatchObject({required: true, default: 'eu'})
    })

    it('are fine without a default on a manual task (or run_on_start = false)', () => {
      const text = inlineTask(['key = "REGION", kind = "env", required = true'], 'run_on_start = false\n')
      expect(paramsOf(text)[0]).toMatchObject({required: true, default: undefined})
    })
  })

  describe('shape of an entry', () => {
    it.each<[string, string, string, string?]>([
      ['key = "A", kind = "env", kye = "B"', 'kye', 'unknown parameter field "kye"', 'did you mean "key"?'],
      ['key = "A", kind = "env", label = "x"', 'label', 'unknown parameter field "label"', 'known fields: key, kind, type, required, default, choices, allow_custom, description'],
      ['key = "A", kind = "env", type = "int"', 'type', 'must be one of "string", "number", got the string "int"'],
      ['key = "A", kind = "env", required = "yes"', 'required', 'expected true or false, got the string "yes"'],
      ['key = "A", kind = "env", allow_custom = 1', 'allow_custom', 'expected true or false, got the integer 1'],
      ['key = "A", kind = "env", description = 5', 'description', 'expected a string, got the integer 5'],
      ['key = 5, kind = "env"', 'key', 'expected a string, got the integer 5'],
      ['key = "A", kind = "ENV"', 'kind', 'must be one of "env", "arg", "option", "flag"', 'did you mean "env"?'],
    ])('{ %s } → error at .%s', (entry, field, message, hint) => {
      const text = inlineTask([entry])
      expectOnlyError(text, `tasks.t.parameters[0].${field}`, pos(text, `${field} =`), message, hint)
    })

    it('a missing key or kind is reported at the entry', () => {
      const text = inlineTask(['kind = "env"', 'key = "A"'])
      expect(errorsOf(text)).toStrictEqual([
        {key: 'tasks.t.parameters[0].key', line: 4, column: 3, message: 'a parameter needs a key'},
        {key: 'tasks.t.parameters[1].kind', line: 5, column: 3, message: 'a parameter needs a kind', hint: 'one of env, arg, option, flag'},
      ])
    })

    it('an entry that is not a table', () => {
      const text = '[tasks.t]\nrun = "true"\nparameters = ["REGION"]\n'
      expect(errorsOf(text)).toStrictEqual([{key: 'tasks.t.parameters[0]', line: 3, column: 15, message: 'expected a parameter table, got the string "REGION"'}])
    })

    it('every problem of every entry is reported together, in file order', () => {
      const text = inlineTask([
        'key = "SCHED_X", kind = "env"',
        'key = "--f", kind = "flag", required = true',
        'key = "n", kind = "arg", type = "number", default = "x"',
      ])
      expect(errorsOf(text).map((e) => [e.key, e.line, e.column])).toStrictEqual([
        ['tasks.t.parameters[0].key', 4, 5],
        ['tasks.t.parameters[1].required', 5, 33],
        ['tasks.t.parameters[2].default', 6, 47],
      ])
    })
  })
})

// ---------------------------------------------------------------------------------------------

describe('bareKey', () => {
  it.each([
    ['--region', 'region'],
    ['-r', 'r'],
    ['region', 'region'],
    ['---x', 'x'],
    ['a-b', 'a-b'],
  ])('%j → %j', (key, bare) => {
    expect(bareKey(key)).toBe(bare)
  })
})

describe('parseParamFlags', () => {
  it.each<[string[], Record<string, string | boolean>]>([
    [[], {}],
    [['region=eu'], {region: 'eu'}],
    [['--region=eu'], {'--region': 'eu'}],
    [['dry-run'], {'dry-run': true}],
    [['--dry-run'], {'--dry-run': true}],
    [['note=a=b'], {note: 'a=b'}],
    [['empty='], {empty: ''}],
    [['msg=hello world'], {msg: 'hello world'}],
    [['region=eu', 'dry-run', 'n=3'], {region: 'eu', 'dry-run': true, n: '3'}],
    // a repeated key: the last one wins
    [['region=eu', 'region=us'], {region: 'us'}],
  ])('%j', (tokens, expected) => {
    expect(parseParamFlags(tokens)).toStrictEqual(expected)
  })
})

describe('resolveParams', () => {
  const REGION = param('--region', 'option', {choices: ['eu', 'us'], required: true})
  const DRY = param('--dry-run', 'flag')
  const COUNT = param('COUNT', 'env', {type: 'number', default: '1'})

  it('with nothing declared and nothing given: nothing', () => {
    expect(resolveParams([], {})).toStrictEqual({ok: true, params: {values: {}, env: {}, args: []}})
  })

  it('uses defaults for what is not given', () => {
    const declared = [param('REGION', 'env', {default: 'eu'}), param('--format', 'option', {default: 'json'}), param('-v', 'flag', {default: 'true'}), DRY]
    expect(resolveParams(declared, {})).toStrictEqual({
      ok: true,
      params: {values: {REGION: 'eu', '--format': 'json', '-v': 'true', '--dry-run': 'false'}, env: {REGION: 'eu'}, args: ['--format', 'json', '-v']},
    })
  })

  it.each(['--region', '-region', 'region'])('a key matches with or without its leading dashes: %j', (key) => {
    const result = resolveParams([REGION], {[key]: 'us'})
    expect(result).toStrictEqual({ok: true, params: {values: {'--region': 'us'}, env: {}, args: ['--region', 'us']}})
  })

  it('a dashed key matches an arg or env parameter too', () => {
    const result = resolveParams([param('target', 'arg'), param('REGION', 'env')], {'--target': 'db', '-REGION': 'eu'})
    expect(result).toStrictEqual({ok: true, params: {values: {target: 'db', REGION: 'eu'}, env: {REGION: 'eu'}, args: ['db']}})
  })

  it('rejects an unknown key with a did-you-mean', () => {
    expect(resolveParams([REGION, DRY], {'--region': 'eu', regoin: 'us'})).toStrictEqual({
      ok: false,
      problems: [{key: 'regoin', value: 'us', message: 'unknown parameter "regoin" (did you mean "--region"?); known: --region, --dry-run'}],
    })
  })

  it('rejects an unknown key with nothing close', () => {
    expect(resolveParams([REGION], {'--region': 'eu', colour: 'red'})).toStrictEqual({
      ok: false,
      problems: [{key: 'colour', value: 'red', message: 'unknown parameter "colour"; known: --region'}],
    })
  })

  it('rejects any key when the task declares no parameters', () => {
    expect(resolveParams([], {x: '1'})).toStrictEqual({
      ok: false,
      problems: [{key: 'x', value: '1', message: 'unknown parameter "x"; this task declares no parameters'}],
    })
  })

  it('rejects one parameter given twice under different spellings', () => {
    expect(resolveParams([REGION], {region: 'eu', '--region': 'us'})).toStrictEqual({
      ok: false,
      problems: [{key: '--region', value: 'us', message: 'parameter "--region" given twice'}],
    })
  })

  it('rejects a missing required parameter', () => {
    expect(resolveParams([REGION, DRY], {'dry-run': true})).toStrictEqual({
      ok: false,
      problems: [{key: '--region', message: 'missing required parameter "--region"'}],
    })
  })

  it('a required parameter with a default is satisfied by the default', () => {
    const declared = [param('REGION', 'env', {required: true, default: 'eu'})]
    expect(resolveParams(declared, {})).toStrictEqual({ok: true, params: {values: {REGION: 'eu'}, env: {REGION: 'eu'}, args: []}})
  })

  describe('choices', () => {
    it('rejects a value outside choices', () => {
      expect(resolveParams([REGION], {region: 'mars'})).toStrictEqual({
        ok: false,
        problems: [{key: 'region', value: 'mars', message: 'parameter "--region": "mars" is not one of "eu", "us"'}],
      })
    })

    it('accepts a value outside choices with allow_custom', () => {
      const custom = {...REGION, allow_custom: true}
      expect(resolveParams([custom], {region: 'mars'})).toStrictEqual({ok: true, params: {values: {'--region': 'mars'}, env: {}, args: ['--region', 'mars']}})
    })

    it('compares a number given as a number by its text', () => {
      const n = param('N', 'env', {type: 'number', choices: ['1', '2']})
      expect(resolveParams([n], {N: 2})).toStrictEqual({ok: true, params: {values: {N: '2'}, env: {N: '2'}, args: []}})
    })
  })

  describe('number type', () => {
    it.each<[string | number, string]>([
      ['42', '42'],
      ['-1.5', '-1.5'],
      [7, '7'],
      [0.25, '0.25'],
      ['1e3', '1e3'],
    ])('accepts %j', (value, text) => {
      expect(resolveParams([COUNT], {COUNT: value})).toStrictEqual({ok: true, params: {values: {COUNT: text}, env: {COUNT: text}, args: []}})
    })

    it.each<[string, string]>([
      ['abc', 'the string "abc"'],
      ['', 'the string ""'],
      [' ', 'the string " "'],
      ['12abc', 'the string "12abc"'],
      ['Infinity', 'the string "Infinity"'],
    ])('rejects %j', (value, described) => {
      expect(resolveParams([COUNT], {COUNT: value})).toStrictEqual({
        ok: false,
        problems: [{key: 'COUNT', value, message: `parameter "COUNT": expected a number, got ${described}`}],
      })
    })
  })

  describe('flags', () => {
    it.each<[string | boolean, string, string[]]>([
      [true, 'true', ['--dry-run']],
      ['true', 'true', ['--dry-run']],
      [false, 'false', []],
      ['false', 'false', []],
    ])('%j → %j', (value, text, args) => {
      expect(resolveParams([DRY], {'dry-run': value})).toStrictEqual({ok: true, params: {values: {'--dry-run': text}, env: {}, args}})
    })

    it('a bare `--param flag` means true', () => {
      expect(resolveParams([DRY], parseParamFlags(['dry-run']))).toStrictEqual({ok: true, params: {values: {'--dry-run': 'true'}, env: {}, args: ['--dry-run']}})
    })

    it.each<[string | number, string]>([
      ['yes', 'the string "yes"'],
      ['1', 'the string "1"'],
      [1, 'the integer 1'],
      ['TRUE', 'the string "TRUE"'],
    ])('rejects %j', (value, described) => {
      expect(resolveParams([DRY], {'--dry-run': value})).toStrictEqual({
        ok: false,
        problems: [{key: '--dry-run', value, message: `parameter "--dry-run": a flag takes true or false, got ${described}`}],
      })
    })

    it('a flag declared true by default can be turned off', () => {
      const verbose = param('-v', 'flag', {default: 'true'})
      expect(resolveParams([verbose], {v: false})).toStrictEqual({ok: true, params: {values: {'-v': 'false'}, env: {}, args: []}})
    })
  })

  it.each([
    ['option', param('--region', 'option'), 'region'],
    ['env', param('REGION', 'env'), 'REGION'],
    ['arg', param('target', 'arg'), 'target'],
  ] as const)('a bare key for a non-flag %s parameter needs a value', (_, declared, token) => {
    expect(resolveParams([declared], parseParamFlags([token]))).toStrictEqual({
      ok: false,
      problems: [{key: token, value: true, message: `parameter "${declared.key}": needs a value: --param ${token}=VALUE`}],
    })
  })

  describe('rendering', () => {
    const DECLARED = [
      param('src', 'arg'),
      param('REGION', 'env', {default: 'eu'}),
      param('--format', 'option'),
      param('--verbose', 'flag'),
      param('dest', 'arg'),
      param('TOKEN', 'env'),
    ]

    it('env params set variables; arg, option and flag tokens follow declaration order', () => {
      const result = resolveParams(DECLARED, {dest: '/backup', '--verbose': true, format: 'json', src: '/data', TOKEN: 'abc'})
      expect(result).toStrictEqual({
        ok: true,
        params: {
          values: {src: '/data', REGION: 'eu', '--format': 'json', '--verbose': 'true', dest: '/backup', TOKEN: 'abc'},
          env: {REGION: 'eu', TOKEN: 'abc'},
          args: ['/data', '--format', 'json', '--verbose', '/backup'],
        },
      })
    })

    it('values are never split or quoted: one value is one argument', () => {
      const result = resolveParams(DECLARED, {src: 'a b; rm -rf /', format: '$(id)'})
      expect(result.ok && result.params.args).toStrictEqual(['a b; rm -rf /', '--format', '$(id)'])
    })

    it('an omitted option or false flag leaves no token', () => {
      expect(resolveParams(DECLARED, {src: 'x'})).toStrictEqual({ok: true, params: {values: {src: 'x', REGION: 'eu', '--verbose': 'false'}, env: {REGION: 'eu'}, args: ['x']}})
    })

    const A = param('a', 'arg')
    const B = param('b', 'arg')
    const C = param('c', 'arg')
    const OPT = param('--o', 'option')

    it.each<[string, Parameter[], Record<string, string>, string[]]>([
      ['none given', [A, B, C], {}, []],
      ['first given', [A, B, C], {a: 'A'}, ['A']],
      ['first two given', [A, B, C], {a: 'A', b: 'B'}, ['A', 'B']],
      ['only the second', [A, B, C], {b: 'B'}, ['', 'B']],
      ['only the last', [A, B, C], {c: 'C'}, ['', '', 'C']],
      ['first and last', [A, B, C], {a: 'A', c: 'C'}, ['A', '', 'C']],
      ['an omitted arg before an option only', [A, OPT], {o: 'x'}, ['--o', 'x']],
      ['an omitted arg before an option and a given arg', [A, OPT, B], {o: 'x', b: 'B'}, ['', '--o', 'x', 'B']],
      ['an omitted arg after the last given one', [A, OPT, B], {a: 'A', o: 'x'}, ['A', '--o', 'x']],
    ])('omitted optional args keep their place as "" only before a given arg: %s', (_, declared, supplied, args) => {
      const result = resolveParams(declared, supplied)
      expect(result.ok && result.params.args).toStrictEqual(args)
    })

    it('omitted args without a default are absent from the stored values', () => {
      const result = resolveParams([A, B, C], {c: 'C'})
      expect(result.ok && result.params.values).toStrictEqual({c: 'C'})
    })
  })

  it('reports every problem at once: given ones in the order given, then missing ones', () => {
    const declared = [REGION, DRY, COUNT, param('--mode', 'option', {choices: ['fast', 'slow']}), param('NAME', 'env', {required: true})]
    const result = resolveParams(declared, {colour: 'red', 'dry-run': 'maybe', COUNT: 'many', mode: 'medium', '--colour': 'blue'})
    expect(result).toStrictEqual({
      ok: false,
      problems: [
        {key: 'colour', value: 'red', message: 'unknown parameter "colour"; known: --region, --dry-run, COUNT, --mode, NAME'},
        {key: '--colour', value: 'blue', message: 'unknown parameter "--colour"; known: --region, --dry-run, COUNT, --mode, NAME'},
        {key: '--region', message: 'missing required parameter "--region"'},
        {key: 'dry-run', value: 'maybe', message: 'parameter "--dry-run": a flag takes true or false, got the string "maybe"'},
        {key: 'COUNT', value: 'many', message: 'parameter "COUNT": expected a number, got the string "many"'},
        {key: 'mode', value: 'medium', message: 'parameter "--mode": "medium" is not one of "fast", "slow"'},
        {key: 'NAME', message: 'missing required parameter "NAME"'},
      ],
    })
  })

  it('resolves parameters read from a config end to end', () => {
    const declared = paramsOf(`[tasks.t]
run = "true"
parameters = [
  { key = "REGION", kind = "env", required = true, choices = ["eu", "us"] },
  { key = "target", kind = "arg" },
  { key = "--count", kind = "option", type = "number", default = 3 },
  { key = "--dry-run", kind = "flag" },
]
`)
    expect(resolveParams(declared, parseParamFlags(['REGION=us', 'target=db', 'dry-run']))).toStrictEqual({
      ok: true,
      params: {values: {REGION: 'us', target: 'db', '--count': '3', '--dry-run': 'true'}, env: {REGION: 'us'}, args: ['db', '--count', '3', '--dry-run']},
    })
  })
})
