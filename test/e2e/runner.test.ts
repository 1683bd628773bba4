import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect} from 'vitest'
import {type Sandbox, alive, fixture, it, q, readPid, until} from '../support/sandbox.js'

/**
 * The runner against a real daemon and real processes (SPEC §2, §3): process groups, the stop
 * ladder, pipes held by escaped children, exit codes, retries, working_dir, environment and
 * parameters. Fixture programs live in test/fixtures; `exec` makes the fixture the run's main
 * process (dash does not exec the last command of `-c` itself).
 */

/** A sandbox with the config (text, or made from the sandbox for paths inside it), its daemon started. */
async function serve(b: Sandbox, toml: string | ((b: Sandbox) => string), env: NodeJS.ProcessEnv = {}): Promise<Sandbox> {
  b.write(typeof toml === 'string' ? toml : toml(b))
  await b.start(env)
  return b
}

/** `run = "exec '<fixture>' args…"` as a TOML line. */
function runLine(name: string, ...args: string[]): string {
  return `run = ${q(`exec '${fixture(name)}'${args.map((a) => ` ${a}`).join('')}`)}`
}

async function grandchildPid(b: Sandbox, task: string, id: string): Promise<number> {
  const text = await until(async () => {
    const t = await b.logText(task, id)
    return /grandchild (\d+)/.test(t) && t
  }, 5000, 'the grandchild pid in the log')
  const pid = Number(/grandchild (\d+)/.exec(text)![1])
  b.pids.add(pid)
  return pid
}

describe('process groups: no process outlives its run', () => {
  it('kills a grandchild that still holds the output pipes when the run exits', async ({box}) => {
    const b = await serve(box, `[tasks.gc]\n${runLine('grandchild.sh', 'hold', '0')}\n`)
    const id = await b.trigger('gc')
    const run = await b.ended('gc', id)
    expect(run).toMatchObject({end_reason: 'success', exit_code: 0, signal: null})
    const pid = await grandchildPid(b, 'gc', id)
    await until(() => !alive(pid), 1000, `grandchild ${pid} to be gone`)
    // The run ended on the main process's exit plus a short drain grace, not when the sleep would.
    const lines = await b.log('gc', id)
    const printed = lines.find((l) => l.text.startsWith('grandchild '))!
    const killed = lines.find((l) => l.stream === 'system')!
    expect(killed.text).toMatch(/^\[sched\] output pipes still held after the process exited; killed [1-9]\d* leftover process/)
    expect(killed.ts - printed.ts).toBeLessThan(1000)
  })

  it('kills a grandchild left in the group that closed its pipes', async ({box}) => {
    const b = await serve(box, `[tasks.gc]\n${runLine('grandchild.sh', 'quiet', '0')}\n`)
    const id = await b.trigger('gc')
    const run = await b.ended('gc', id)
    expect(run).toMatchObject({end_reason: 'success', exit_code: 0})
    const pid = await grandchildPid(b, 'gc', id)
    await until(() => !alive(pid), 1000, `grandchild ${pid} to be gone`)
    expect(await b.logText('gc', id)).toContain('[sched] killed 1 leftover process after the process exited')
  })

  it('kills the grandchildren of a run stopped by a newer one (on_overlap = "terminate")', async ({box}) => {
    const b = await serve(box, `[tasks.gc]\n${runLine('grandchild.sh', 'hold', '30')}\non_overlap = "terminate"\ngraceful_stop = "5s"\n`)
    const first = await b.trigger('gc')
    const pid = await grandchildPid(b, 'gc', first)
    expect(alive(pid)).toBe(true)
    const second = await b.trigger('gc')
    const stopped = await b.ended('gc', first)
    // SIGTERM ends the main process at once; the TERM-ignoring grandchild is not waited for.
    expect(stopped).toMatchObject({end_reason: 'stopped', signal: 'SIGTERM', exit_code: null})
    expect(stopped.message).toContain('terminate')
    await until(() => !alive(pid), 1000, `grandchild ${pid} to be gone`)
    const pid2 = await grandchildPid(b, 'gc', second)
    expect(alive(pid2)).toBe(true)
  })

  it('kills the grandchildren of a run stopped by daemon shutdown', async ({box}) => {
    const b = await serve(box, `[daemon]\nshutdown_timeout = "5s"\n[tasks.gc]\n${runLine('grandchild.sh', 'hold', '30')}\n`)
    const id = await b.trigger('gc')
    const pid = await grandchildPid(b, 'gc', id)
    const t0 = Date.now()
    expect(await b.stop('SIGTERM')).toBe(0)
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(b.run('gc', id)).toMatchObject({status: 'ended', end_reason: 'stopped', signal: 'SIGTERM', message: 'stopped at daemon shutdown'})
    await until(() => !alive(pid), 1000, `grandchild ${pid} to be gone`)
  })
})

describe('stop ladder', () => {
  it('SIGKILLs a SIGTERM-ignoring run graceful_stop after its timeout', async ({box}) => {
    const b = await serve(box, `[tasks.stubborn]\n${runLine('ignore-term.sh')}\ntimeout = "1s"\ngraceful_stop = "1s"\n`)
    const res = await b.cli(['trigger', 'stubborn', '--wait'])
    // --wait exits 128 + n for a signal.
    expect(res.code).toBe(137)
    const [run] = b.runs('stubborn')
    expect(run).toMatchObject({status: 'ended', end_reason: 'timeout', exit_code: null, signal: 'SIGKILL', message: 'timed out after 1s'})
    expect(run.duration_ms).toBeGreaterThanOrEqual(1900)
    expect(run.duration_ms).toBeLessThan(3500)
    const system = (await b.log('stubborn', run.id)).filter((l) => l.stream === 'system').map((l) => l.text)
    expect(system).toEqual([
      '[sched] timeout reached; sending SIGTERM to the process group (SIGKILL in 1s)',
      '[sched] still running 1s after SIGTERM; sending SIGKILL',
    ])
  })

  it('sends stop_signal = "SIGINT"; the trap\'s exit code is recorded and the run ends `timeout`', async ({box}) => {
    const b = await serve(box, `[tasks.inty]\n${runLine('trap-int.sh')}\ntimeout = "1s"\nstop_signal = "SIGINT"\ngraceful_stop = "5s"\n`)
    const res = await b.cli(['trigger', 'inty', '--wait'])
    expect(res.code).toBe(42)
    const [run] = b.runs('inty')
    expect(run).toMatchObject({end_reason: 'timeout', exit_code: 42, signal: null})
    // The trap answered at once: no SIGKILL after graceful_stop.
    expect(run.duration_ms).toBeGreaterThanOrEqual(900)
    expect(run.duration_ms).toBeLessThan(2500)
    const text = await b.logText('inty', run.id)
    expect(text).toContain('sending SIGINT to the process group')
    expect(text).toContain('got INT')
    expect(text).not.toContain('still running')
  })

  it('does not let a child that escaped the group (setsid) and holds the pipes keep the run alive', async ({box}) => {
    const b = await serve(box, (s) => `[tasks.esc]\n${runLine('escape.sh', 'hold', `'${s.path('escapee.pid')}'`)}\n`)
    const id = await b.trigger('esc')
    const run = await b.ended('esc', id)
    const pid = readPid(b.path('escapee.pid'))!
    b.pids.add(pid)
    expect(run).toMatchObject({end_reason: 'success', exit_code: 0, signal: null})
    await until(() => !alive(pid), 1000, `escaped process ${pid} to be gone`)
    const lines = await b.log('esc', id)
    expect(lines.map((l) => l.text)).toContain(`escaped ${pid}`)
    const exited = lines.find((l) => l.text === 'main exits')!
    const killed = lines.find((l) => l.stream === 'system')!
    expect(killed.text).toMatch(/^\[sched\] output pipes still held after the process exited; killed [1-9]\d* leftover process/)
    // Held pipes kept the run for the drain grace only (the escapee would have slept 30 s).
    expect(killed.ts - exited.ts).toBeLessThan(1000)
  })

  it('kills a child that escaped the group (setsid) with its own stdio when the run ends', async ({box}) => {
    const b = await serve(box, (s) => `[tasks.esc]\n${runLine('escape.sh', 'quiet', `'${s.path('escapee.pid')}'`)}\n`)
    const id = await b.trigger('esc')
    const run = await b.ended('esc', id)
    const pid = readPid(b.path('escapee.pid'))!
    b.pids.add(pid)
    expect(run).toMatchObject({end_reason: 'success', exit_code: 0})
    await until(() => !alive(pid), 1000, `escaped process ${pid} to be gone`)
    expect(await b.logText('esc', id)).toContain('[sched] killed 1 leftover process after the process exited')
  })
})

describe('without a daemon', () => {
  it('runs in the foreground with the same runner: output streamed, exit code passed on, grandchild killed', async ({box}) => {
    const b = box.with(`[tasks.gc]\nrun = ${q(`'${fixture('grandchild.sh')}' hold 0; echo oops >&2; exit 7`)}\n`)
    const res = await b.cli(['trigger', 'gc'])
    expect(res.code).toBe(7)
    const pid = Number(/grandchild (\d+)/.exec(res.stdout)?.[1])
    b.pids.add(pid)
    expect(res.stderr).toContain('oops')
    const [run] = b.runs('gc')
    expect(run).toMatchObject({status: 'ended', end_reason: 'failed', exit_code: 7, triggered_by: 'cli'})
    await until(() => !alive(pid), 1000, `grandchild ${pid} to be gone`)
  })
})

describe('exit codes, retries, start failures', () => {
  it('counts a code listed in exit_codes as success, and any other code or a foreign signal as failed', async ({box}) => {
    const b = await serve(
      box,
      `[defaults]\nexit_codes = [0, 3]\n[tasks.three]\n${runLine('exit-with.sh', '3')}\n[tasks.four]\n${runLine('exit-with.sh', '4')}\n[tasks.killed]\nrun = "kill -KILL $$"\n`,
    )
    const three = await b.cli(['trigger', 'three', '--wait'])
    expect(three.code).toBe(3)
    expect(b.runs('three')[0]).toMatchObject({end_reason: 'success', exit_code: 3, signal: null, message: null})
    const four = await b.cli(['trigger', 'four', '--wait'])
    expect(four.code).toBe(4)
    expect(b.runs('four')[0]).toMatchObject({end_reason: 'failed', exit_code: 4, message: 'exited with code 4'})
    const killed = await b.cli(['trigger', 'killed', '--wait'])
    expect(killed.code).toBe(137)
    expect(b.runs('killed')[0]).toMatchObject({end_reason: 'failed', exit_code: null, signal: 'SIGKILL', message: 'killed by SIGKILL'})
  })

  it('retries a failing run retry_attempts times, linked, with the same params and trigger', async ({box}) => {
    const b = await serve(box, `[tasks.flaky]
${runLine('exit-with.sh', '1')}
retry_attempts = 2
retry_delay = "200ms"
parameters = [{ key = "WHO", kind = "env" }]
`)
    const first = await b.trigger('flaky', ['--param', 'WHO=me'])
    const runs = await until(() => {
      const all = b.runs('flaky')
      return all.length === 3 && all.every((r) => r.status === 'ended') && all
    }, 5000, 'three ended attempts')
    expect(runs.map((r) => r.retry_attempt)).toEqual([0, 1, 2])
    expect(runs[0].id).toBe(first)
    expect(runs.map((r) => r.retry_of_run_id)).toEqual([null, runs[0].id, runs[1].id])
    for (const r of runs) {
      expect(r).toMatchObject({end_reason: 'failed', exit_code: 1, triggered_by: 'cli', params: {WHO: 'me'}})
      expect(await b.logText('flaky', r.id)).toBe(`attempt ${r.retry_attempt}`)
    }
    for (const k of [1, 2]) {
      const gap = Date.parse(runs[k].started_at!) - Date.parse(runs[k - 1].ended_at!)
      expect(gap).toBeGreaterThanOrEqual(190)
      expect(gap).toBeLessThan(1500)
    }
    // No fourth attempt.
    await new Promise((r) => setTimeout(r, 500))
    expect(b.runs('flaky')).toHaveLength(3)
  })

  it('fails a run whose working_dir does not exist, saying so in the record and the log', async ({box}) => {
    const missing = '/nonexistent/sched-e2e-working-dir'
    const b = await serve(box, `[tasks.nowhere]\nrun = "pwd"\nworking_dir = ${q(missing)}\n`)
    const res = await b.cli(['trigger', 'nowhere', '--wait'])
    expect(res.code).toBe(1)
    const [run] = b.runs('nowhere')
    expect(run).toMatchObject({
      status: 'ended',
      end_reason: 'failed',
      exit_code: null,
      signal: null,
      pid: null,
      message: `could not start: working_dir ${missing} does not exist or is not a directory`,
    })
    expect(await b.log('nowhere', run.id)).toEqual([
      expect.objectContaining({stream: 'system', text: `[sched] could not start: working_dir ${missing} does not exist or is not a directory`}),
    ])
  })
})

describe('environment', () => {
  const LAYERS = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7']
  const SECRET6 = 'secret-six-value'
  const SECRET7 = 'secret-seven-value'

  it('layers daemon env < [defaults] env_file < [defaults] env < env_file < env < secrets < env params, and masks secrets', async ({box}) => {
    const b = box
    // Variable Lk is set by layer k and every layer below it: its value names the winning layer.
    const layer = (from: number, value: string) => LAYERS.slice(from - 1).map((k) => `${k}=${value}`).join('\n') + '\n'
    writeFileSync(b.path('defaults.env'), layer(2, 'defaults_env_file'))
    writeFileSync(b.path('unit.env'), layer(4, 'unit_env_file'))
    writeFileSync(b.path('secrets.env'), `L6=${SECRET6}\nL7=${SECRET7}\n`)
    const inline = (from: number, value: string) => `{ ${LAYERS.slice(from - 1).map((k) => `${k} = "${value}"`).join(', ')} }`
    const names = [...LAYERS, 'SCHED_TASK', 'SCHED_RUN_ID', 'SCHED_ATTEMPT', 'SCHED_API_TOKEN', 'SCHED_OTHER']
    b.write(`[defaults]
env_file = "defaults.env"
env = ${inline(3, 'defaults_env')}

[tasks.env]
run = ${q(`'${fixture('print-env.sh')}' ${names.join(' ')}; echo "secret in a sentence: <$L6>"`)}
env_file = "unit.env"
env = ${inline(5, 'unit_env')}
secrets_file = "secrets.env"
parameters = [{ key = "L7", kind = "env" }]
`)
    await b.start({...Object.fromEntries(LAYERS.map((k) => [k, 'daemon'])), SCHED_API_TOKEN: 'token-from-the-daemon-env', SCHED_OTHER: 'daemon-setting'})
    const id = await b.trigger('env', ['--param', 'L7=param'])
    const run = await b.ended('env', id)
    expect(run.end_reason).toBe('success')
    expect(await b.logText('env', id)).toBe(
      [
        'L1=daemon',
        'L2=defaults_env_file',
        'L3=defaults_env',
        'L4=unit_env_file',
        'L5=unit_env',
        'L6=[redacted]',
        'L7=param',
        'SCHED_TASK=env',
        `SCHED_RUN_ID=${id}`,
        'SCHED_ATTEMPT=0',
        'SCHED_API_TOKEN=<unset>',
        'SCHED_OTHER=<unset>',
        'secret in a sentence: <[redacted]>',
      ].join('\n'),
    )
    // Neither secret value is anywhere in the state directory (records, logs, requests).
    for (const file of filesUnder(b.state)) {
      const bytes = readFileSync(file, 'latin1')
      expect(bytes, file).not.toContain(SECRET6)
      expect(bytes, file).not.toContain(SECRET7)
    }
  })
})

describe('parameters', () => {
  it('renders option, flag and arg into "$@" and env params into the environment, never into the script', async ({box}) => {
    const b = await serve(box, `[tasks.params]
run = ${q(`exec '${fixture('print-args.sh')}' "$@"`)}
parameters = [
  { key = "--region", kind = "option" },
  { key = "--dry-run", kind = "flag" },
  { key = "target", kind = "arg" },
  { key = "PARAM_MODE", kind = "env" },
]
`)
    const pwned = (n: number) => b.path(`pwned${n}`)
    const region = `$(touch ${pwned(1)})`
    const target = `a  b; touch ${pwned(2)} "quoted" 'single'`
    const mode = `\`touch ${pwned(3)}\` $HOME`
    const id = await b.trigger('params', ['--param', `region=${region}`, '--param', 'dry-run', '--param', `target=${target}`, '--param', `PARAM_MODE=${mode}`])
    const run = await b.ended('params', id)
    expect(run.end_reason).toBe('success')
    expect(await b.logText('params', id)).toBe(['argc=4', '[--region]', `[${region}]`, '[--dry-run]', `[${target}]`, `PARAM_MODE=[${mode}]`].join('\n'))
    expect(run.params).toEqual({'--region': region, '--dry-run': 'true', target, PARAM_MODE: mode})
    for (const n of [1, 2, 3]) expect(b.exists(`pwned${n}`)).toBe(false)
  })

  it('omits an absent flag and option, and refuses an unknown parameter without creating a run', async ({box}) => {
    const b = await serve(box, `[tasks.params]
run = ${q(`exec '${fixture('print-args.sh')}' "$@"`)}
parameters = [
  { key = "--region", kind = "option" },
  { key = "--dry-run", kind = "flag" },
  { key = "target", kind = "arg", default = "all" },
]
`)
    const id = await b.trigger('params')
    await b.ended('params', id)
    expect(await b.logText('params', id)).toBe(['argc=1', '[all]', 'PARAM_MODE=[<unset>]'].join('\n'))
    const refused = await b.cli(['trigger', 'params', '--param', 'regoin=eu'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('unknown parameter "regoin"')
    expect(refused.stderr).toContain('did you mean "--region"?')
    expect(b.runs('params')).toHaveLength(1)
  })
})

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}
