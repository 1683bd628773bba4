import {describe, expect, it} from 'vitest'
import {canonicalJson, configHash} from '../../src/config/config-hash.js'
import {type LoadOptions, loadConfigText} from '../../src/config/load.js'

const BASE: LoadOptions = {isRoot: false, hostZone: 'UTC', home: '/home/tester', env: {}}

function hashOf(text: string, options: LoadOptions = {}, path = '/etc/sched/sched.toml'): string {
  const result = loadConfigText(text, path, {...BASE, ...options})
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return configHash(result.config.units)
}

const CONFIG = `
[daemon]
port = 9477
[tasks.backup]
run = "pg_dump app"
cron = "30 2 * * *"
env = { A = "1", B = "2" }
[services.web]
run = "node server.js"
instances = 2
`

describe('configHash: the effective units, not the bytes of the file', () => {
  const base = hashOf(CONFIG)

  it('is a SHA-256 in hex', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each([
    ['comments and blank lines', `# nightly\n${CONFIG}\n\n# end\n`],
    ['key order and table order', '[services.web]\ninstances = 2\nrun = "node server.js"\n[tasks.backup]\nenv = { B = "2", A = "1" }\ncron = "30 2 * * *"\nrun = "pg_dump app"\n'],
    ['a default written out', CONFIG.replace('instances = 2', 'instances = 2\nrestart = "always"')],
    ['a value inherited from [defaults] instead of set on the unit', CONFIG.replace('run = "node server.js"', 'run = "node server.js"').replace('[tasks.backup]', '[defaults]\ntimeout = "0s"\n[tasks.backup]')],
    ['[daemon] settings (each node has its own port and state)', CONFIG.replace('port = 9477', 'port = 9478\nstate_dir = "/srv/other"')],
    ['[cluster] settings (each node has its own name)', `${CONFIG}\n[cluster]\nurl = "postgres://db/x"\nnode = "other"\n`],
    ['a duration spelt another way', CONFIG.replace('instances = 2', 'instances = 2\nhealthy_after = 10000000000')],
  ])('ignores %s', (_what, text) => {
    expect(hashOf(text)).toBe(base)
  })

  it.each([
    ['a command', CONFIG.replace('pg_dump app', 'pg_dump app2')],
    ['a schedule', CONFIG.replace('30 2', '31 2')],
    ['an env value', CONFIG.replace('B = "2"', 'B = "3"')],
    ['instances', CONFIG.replace('instances = 2', 'instances = 3')],
    ['a unit added', `${CONFIG}\n[tasks.more]\nrun = "true"\n`],
  ])('changes with %s', (_what, text) => {
    expect(hashOf(text)).not.toBe(base)
  })

  it('changes with the host zone a cron task falls back to: such nodes would disagree on the ticks', () => {
    expect(hashOf(CONFIG, {hostZone: 'Europe/Bratislava'})).not.toBe(base)
  })

  it('changes when a relative working_dir resolves elsewhere', () => {
    const text = CONFIG.replace('instances = 2', 'instances = 2\nworking_dir = "app"')
    expect(hashOf(text, {}, '/etc/sched/sched.toml')).not.toBe(hashOf(text, {}, '/srv/sched/sched.toml'))
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({b: 1, a: {d: [1, {z: 1, y: undefined, x: null}], c: 'x'}, u: undefined})).toBe('{"a":{"c":"x","d":[1,{"x":null,"z":1}]},"b":1}')
  })
})
