import {describe, expect, it} from 'vitest'
import {type Config, loadConfigText} from '../../src/config/load.js'
import {diffConfigs} from '../../src/engine/config-diff.js'

function config(toml: string): Config {
  const r = loadConfigText(toml, '/tmp/sched-diff-test/sched.toml', {hostZone: 'UTC', isRoot: false})
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}

describe('diffConfigs (SPEC §8)', () => {
  const base = '[tasks.a]\nrun = "true"\n[tasks.b]\nrun = "true"\n[services.s]\nrun = "sleep 1"\n'

  it('reports added, removed and changed units by name', () => {
    const next = '[tasks.a]\nrun = "false"\n[services.s]\nrun = "sleep 1"\n[tasks.c]\nrun = "true"\n'
    expect(diffConfigs(config(base), config(next))).toEqual({ok: true, added: ['c'], removed: ['b'], changed: ['a']})
  })

  it('an identical file changes nothing', () => {
    expect(diffConfigs(config(base), config(base))).toEqual({ok: true, added: [], removed: [], changed: []})
  })

  it('a change inherited from [defaults] changes every unit it reaches', () => {
    expect(diffConfigs(config(base), config(`[defaults]\ntimeout = "5s"\n${base}`))).toEqual({ok: true, added: [], removed: [], changed: ['a', 'b', 's']})
  })

  it('refuses [daemon] and [scheduler] changes: restart required', () => {
    expect(diffConfigs(config(base), config(`[daemon]\nport = 1234\n${base}`))).toEqual({ok: false, message: '[daemon] changed: restart required (sched serve); nothing changed'})
    expect(diffConfigs(config(base), config(`[scheduler]\ntimezone = "Europe/Bratislava"\n${base}`))).toMatchObject({ok: false, message: expect.stringContaining('[scheduler] changed')})
  })
})
