import {existsSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli, tempDir} from '../support/cli.js'

/**
 * Which state directory a command uses (SPEC §6): --state-dir, else SCHED_STATE_DIR, else
 * [daemon] state_dir (relative to the config file), else $XDG_STATE_HOME/sched — and a config
 * with a broken unit still names its state directory for the commands that only read state.
 */
describe('state directory resolution', () => {
  const setup = () => {
    const dir = tempDir()
    const config = join(dir.path, 'sched.toml')
    const env = {XDG_STATE_HOME: join(dir.path, 'xdg'), SCHED_STATE_DIR: ''}
    return {dir, config, env}
  }

  it('takes --state-dir over SCHED_STATE_DIR over [daemon] state_dir over XDG, creating it 0700', async () => {
    const {dir, config, env} = setup()
    writeFileSync(config, '[daemon]\nstate_dir = "from-config"\n[tasks.t]\nrun = "true"\n')
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [['--state-dir', join(dir.path, 'from-flag')], {SCHED_STATE_DIR: join(dir.path, 'from-env')}, 'from-flag'],
      [[], {SCHED_STATE_DIR: join(dir.path, 'from-env')}, 'from-env'],
      [[], {}, 'from-config'],
    ]
    for (const [args, extra, expected] of cases) {
      const res = await runCli(['trigger', 't', '-c', config, ...args], {env: {...env, ...extra}})
      expect(res.code, res.stderr).toBe(0)
      expect(existsSync(join(dir.path, expected, 'runs', 't'))).toBe(true)
      expect(statSync(join(dir.path, expected)).mode & 0o777).toBe(0o700)
    }
    // With none of those, root uses /var/lib/sched (not touched here); others $XDG_STATE_HOME/sched.
    if (process.getuid?.() !== 0) {
      writeFileSync(config, '[tasks.t]\nrun = "true"\n')
      expect((await runCli(['trigger', 't', '-c', config], {env})).code).toBe(0)
      expect(existsSync(join(dir.path, 'xdg', 'sched', 'runs', 't'))).toBe(true)
    }
    dir.cleanup()
  })

  it('a config with a broken unit still points runs, logs and status at its [daemon] state_dir', async () => {
    const {dir, config, env} = setup()
    writeFileSync(config, '[daemon]\nstate_dir = "kept"\n[tasks.t]\nrun = "echo hello"\n')
    expect((await runCli(['trigger', 't', '-c', config], {env})).code).toBe(0)
    writeFileSync(config, '[daemon]\nstate_dir = "kept"\n[tasks.t]\nrun = "echo hello"\ntimeout = "soon"\n')
    const runs = await runCli(['runs', '--json', '-c', config], {env})
    expect(runs.code, runs.stderr).toBe(0)
    expect(JSON.parse(runs.stdout)).toHaveLength(1)
    const logs = await runCli(['logs', 't', '-c', config], {env})
    expect(logs.stdout).toBe('hello\n')
    expect(existsSync(join(dir.path, 'xdg'))).toBe(false)
    dir.cleanup()
  })

  it('runs and logs need no state directory to exist, and create none', async () => {
    const {dir, config, env} = setup()
    mkdirSync(dir.path, {recursive: true})
    writeFileSync(config, '[tasks.t]\nrun = "true"\n')
    expect((await runCli(['runs', '-c', config], {env})).code).toBe(0)
    expect((await runCli(['logs', 't', '-c', config], {env})).code).toBe(0)
    expect(existsSync(join(dir.path, 'xdg'))).toBe(false)
    dir.cleanup()
  })
})
