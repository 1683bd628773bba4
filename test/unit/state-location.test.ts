import {describe, expect, it} from 'vitest'
import {locateConfig} from '../../src/config/locate.js'
import {resolveStateDir} from '../../src/state/location.js'
import {mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

describe('resolveStateDir (SPEC §6)', () => {
  const base = {home: '/home/ann', cwd: '/work', env: {} as NodeJS.ProcessEnv}

  it.each([
    ['--state-dir wins', {flag: 'flagged', env: {SCHED_STATE_DIR: '/env'}, configured: '/cfg'}, '/work/flagged'],
    ['then SCHED_STATE_DIR', {env: {SCHED_STATE_DIR: '/env'}, configured: '/cfg'}, '/env'],
    ['then [daemon] state_dir', {configured: '/cfg'}, '/cfg'],
    ['then /var/lib/sched as root', {isRoot: true}, '/var/lib/sched'],
    ['then $XDG_STATE_HOME/sched', {isRoot: false, env: {XDG_STATE_HOME: '/xdg'}}, '/xdg/sched'],
    ['else ~/.local/state/sched', {isRoot: false}, '/home/ann/.local/state/sched'],
    ['an empty SCHED_STATE_DIR is unset', {isRoot: false, env: {SCHED_STATE_DIR: ''}}, '/home/ann/.local/state/sched'],
  ])('%s', (_name, options, expected) => {
    expect(resolveStateDir({...base, ...options})).toBe(expected)
  })
})

describe('locateConfig (SPEC §1)', () => {
  it('takes --config, then SCHED_CONFIG, then ./sched.toml, then $XDG_CONFIG_HOME/sched/sched.toml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sched-locate-'))
    const cwd = join(dir, 'cwd')
    const xdg = join(dir, 'xdg')
    mkdirSync(cwd)
    mkdirSync(join(xdg, 'sched'), {recursive: true})
    writeFileSync(join(xdg, 'sched', 'sched.toml'), '')
    const env = {XDG_CONFIG_HOME: xdg}
    expect(locateConfig({cwd, env, isRoot: false})).toBe(join(xdg, 'sched', 'sched.toml'))
    writeFileSync(join(cwd, 'sched.toml'), '')
    expect(locateConfig({cwd, env, isRoot: false})).toBe(join(cwd, 'sched.toml'))
    writeFileSync(join(dir, 'env.toml'), '')
    expect(locateConfig({cwd, env: {...env, SCHED_CONFIG: join(dir, 'env.toml')}, isRoot: false})).toBe(join(dir, 'env.toml'))
    writeFileSync(join(dir, 'flag.toml'), '')
    expect(locateConfig({flag: join(dir, 'flag.toml'), cwd, env: {...env, SCHED_CONFIG: join(dir, 'env.toml')}, isRoot: false})).toBe(join(dir, 'flag.toml'))
    expect(() => locateConfig({flag: join(dir, 'missing.toml'), cwd, env})).toThrow(/missing\.toml \(from --config\) does not exist/)
    rmSync(dir, {recursive: true, force: true})
  })

  it('says where it looked when there is no config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sched-locate-'))
    expect(() => locateConfig({cwd: dir, env: {XDG_CONFIG_HOME: join(dir, 'x')}, isRoot: false})).toThrow(`no config file found; looked for ${join(dir, 'sched.toml')}, ${join(dir, 'x', 'sched', 'sched.toml')}`)
    rmSync(dir, {recursive: true, force: true})
  })
})
