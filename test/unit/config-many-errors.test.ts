import {describe, expect, it} from 'vitest'
import {type LoadOptions, loadConfigText} from '../../src/config/load.js'

const OPTIONS: LoadOptions = {isRoot: false, hostZone: 'UTC', home: '/home/tester'}
const PATH = '/srv/sched/sched.toml'

// Ten mistakes. The file is written in an order unlike the loader's (it reads [daemon],
// [scheduler] and [defaults] before units, and checks depends_on last), and line 11 holds two
// mistakes whose reading order differs from their column order, so only a sort by position
// gives the expected list.
const TEXT = `# ten mistakes, each in a different place
[services.web]
run = "node server.js"
instances = 0
depends_on = ["db", "cache"]

[services.db]
run = "postgres"

[tasks]
nightly = { cron = "61 * * * *", run = "true", queue_max = 0 }

[tasks.backup]
run = "pg_dump"
cron = "0 3 * * *"
retry_delya = "30s"

[tasks.report]
run = "make report"

[[tasks.report.parameters]]
key = "REGION"
kind = "env"

[[tasks.report.parameters]]
key = "--format"
kind = "flagg"

[defaults]
graceful_stop = "5s"
max_concurrent = 2

[scheduler]
timezone = "Europe/Bratislav"

[daemon]
port = 70000

[logging]
level = "debug"
`

interface Mistake {
  key: string
  line: number
  column: number
  message: string
  hint?: string
  /** Replaces the mistake without moving anything else in the file. */
  fix: [from: string, to: string]
}

const MISTAKES: Mistake[] = [
  {key: 'services.web.instances', line: 4, column: 1, message: 'must be between 1 and 64, got 0', fix: ['instances = 0', 'instances = 2']},
  {key: 'services.web.depends_on[1]', line: 5, column: 21, message: 'unknown service "cache"', fix: ['["db", "cache"]', '["db"]']},
  {
    key: 'tasks.nightly.cron',
    line: 11,
    column: 13,
    message: 'invalid cron "61 * * * *": minute value 61 is out of range 0-59',
    fix: ['"61 * * * *"', '"59 * * * *"'],
  },
  {key: 'tasks.nightly.queue_max', line: 11, column: 48, message: 'must be between 1 and 10000, got 0', fix: ['queue_max = 0', 'queue_max = 9']},
  {key: 'tasks.backup.retry_delya', line: 16, column: 1, message: 'unknown key "retry_delya"', hint: 'did you mean "retry_delay"?', fix: ['retry_delya', 'retry_delay']},
  {
    key: 'tasks.report.parameters[1].kind',
    line: 27,
    column: 1,
    message: 'must be one of "env", "arg", "option", "flag", got the string "flagg"',
    fix: ['kind = "flagg"', 'kind = "flag"'],
  },
  {
    key: 'defaults.max_concurrent',
    line: 31,
    column: 1,
    message: '"max_concurrent" cannot be set in [defaults]',
    hint:
      'set it on each unit; [defaults] takes catch_up, max_catch_up_runs, jitter, timeout, exit_codes, restart_delay, restart_backoff, ' +
      'healthy_after, start_retries, graceful_stop, stop_signal, shell, env, env_file, secrets_file, log_max_size, log_on_full, keep_runs, keep_for, notify',
    fix: ['max_concurrent = 2', 'timeout = "1h"'],
  },
  {
    key: 'scheduler.timezone',
    line: 34,
    column: 1,
    message: 'unknown time zone "Europe/Bratislav"',
    hint: 'did you mean "Europe/Bratislava"?',
    fix: ['"Europe/Bratislav"', '"Europe/Bratislava"'],
  },
  {key: 'daemon.port', line: 37, column: 1, message: 'must be between 0 and 65535, got 70000', fix: ['port = 70000', 'port = 7000']},
  {
    key: 'logging',
    line: 39,
    column: 1,
    message: 'unknown table or key "logging"',
    hint: 'the file holds [daemon], [scheduler], [cluster], [defaults], [tasks], [services], [notifiers], [[route]]',
    fix: ['[logging]\nlevel = "debug"\n', ''],
  },
]

function errorsOf(text: string) {
  const result = loadConfigText(text, PATH, OPTIONS)
  return result.ok ? [] : result.errors
}

describe('a config with ten mistakes', () => {
  it('the fixture holds each mistake exactly once', () => {
    for (const {fix} of MISTAKES) expect(TEXT.split(fix[0]).length - 1, fix[0]).toBe(1)
  })

  it('reports exactly ten errors, each at its key, line and column, sorted by position', () => {
    const result = loadConfigText(TEXT, PATH, OPTIONS)
    expect(result.ok).toBe(false)
    const errors = result.ok ? [] : result.errors
    expect(errors).toHaveLength(10)
    expect(errors.map(({key, line, column}) => ({key, line, column}))).toStrictEqual(MISTAKES.map(({key, line, column}) => ({key, line, column})))
    errors.forEach((error, i) => {
      expect(error.message, error.key).toBe(MISTAKES[i].message)
      expect(error.hint, error.key).toBe(MISTAKES[i].hint)
    })
  })

  it('positions are in ascending order', () => {
    const errors = errorsOf(TEXT)
    const positions = errors.map((e) => e.line * 1000 + e.column)
    expect(positions).toStrictEqual([...positions].sort((a, b) => a - b))
    expect(new Set(positions).size).toBe(10)
  })

  it.each(MISTAKES.map((m, i) => [i, m.key, m] as const))('fixing mistake %i (%s) leaves the other nine', (_, _key, mistake) => {
    const fixed = TEXT.replace(mistake.fix[0], mistake.fix[1])
    expect(fixed).not.toBe(TEXT)
    const rest = MISTAKES.filter((m) => m !== mistake).map(({key, line, column}) => ({key, line, column}))
    expect(errorsOf(fixed).map(({key, line, column}) => ({key, line, column}))).toStrictEqual(rest)
  })

  it('with all ten fixed the file loads', () => {
    const fixed = MISTAKES.reduce((text, m) => text.replace(m.fix[0], m.fix[1]), TEXT)
    const result = loadConfigText(fixed, PATH, OPTIONS)
    expect(result.ok ? [] : result.errors).toStrictEqual([])
    expect(result.ok && result.config.units.map((u) => u.name)).toStrictEqual(['backup', 'db', 'nightly', 'report', 'web'])
  })
})
