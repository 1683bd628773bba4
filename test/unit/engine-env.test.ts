import {describe, expect, it} from 'vitest'
import {composeEnv, type EnvLayers} from '../../src/engine/env.js'

const RUN = {task: 'backup', runId: '01JTA4ZJ8C4G5W4X8K6Y1M2N3P', attempt: 0}

const layers = (l: Partial<EnvLayers>): EnvLayers => ({daemon: {}, unit: {}, secrets: {}, params: {}, run: RUN, ...l})

/** The variables sched adds to every task run. */
const RUN_VARS = {SCHED_TASK: 'backup', SCHED_RUN_ID: '01JTA4ZJ8C4G5W4X8K6Y1M2N3P', SCHED_ATTEMPT: '0'}

describe('composeEnv: precedence, lowest first — daemon < unit < secrets < params < run variables (SPEC §2)', () => {
  const order = ['daemon', 'unit', 'secrets', 'params'] as const
  // Every non-empty set of layers that define KEY: the highest one wins.
  const subsets = Array.from({length: 15}, (_, mask) => order.filter((_, i) => ((mask + 1) >> i) & 1))
  it.each(subsets.map((set) => [set.join(' + '), set] as const))('KEY set by %s', (_name, set) => {
    const l = layers(Object.fromEntries(set.map((layer) => [layer, {KEY: layer}])))
    expect(composeEnv(l)).toStrictEqual({KEY: set.at(-1), ...RUN_VARS})
  })

  it('each layer adds its own keys; a later layer overrides only the keys it sets', () => {
    const env = composeEnv(
      layers({
        daemon: {PATH: '/usr/bin', LANG: 'C', TZ: 'UTC'},
        unit: {LANG: 'sk_SK.UTF-8', DB: 'postgres://db', MODE: 'unit'},
        secrets: {DB: 'postgres://user:hunter22@db', TOKEN: 's3cret'},
        params: {MODE: 'full', REGION: 'eu'},
      }),
    )
    expect(env).toStrictEqual({
      PATH: '/usr/bin',
      TZ: 'UTC',
      LANG: 'sk_SK.UTF-8',
      DB: 'postgres://user:hunter22@db',
      TOKEN: 's3cret',
      MODE: 'full',
      REGION: 'eu',
      ...RUN_VARS,
    })
  })

  it('the run variables win over every layer', () => {
    const fake = {SCHED_TASK: 'other', SCHED_RUN_ID: 'x', SCHED_ATTEMPT: '9'}
    expect(composeEnv(layers({daemon: fake, unit: fake, secrets: fake, params: fake}))).toStrictEqual(RUN_VARS)
  })

  it('does not change the layers it is given', () => {
    const l = layers({daemon: {A: '1', SCHED_API_TOKEN: 't'}, unit: {A: '2'}, secrets: {A: '3'}, params: {A: '4'}})
    const copy = structuredClone(l)
    composeEnv(l)
    expect(l).toStrictEqual(copy)
  })
})

describe('composeEnv: the daemon’s own SCHED_* settings are not passed on', () => {
  it('drops every SCHED_* variable of the daemon, keeps look-alikes', () => {
    const env = composeEnv(
      layers({
        daemon: {
          SCHED_API_TOKEN: 'tok-123',
          SCHED_CONFIG: '/etc/sched/sched.toml',
          SCHED_HOST: '0.0.0.0',
          SCHED_PORT: '9477',
          SCHED_STATE_DIR: '/var/lib/sched',
          // A daemon started from a sched run inherits that run's variables: not this run's.
          SCHED_INSTANCE: '2',
          SCHEDULE: 'kept',
          sched_api_token: 'kept (names are case-sensitive)',
          MY_SCHED_API_TOKEN: 'kept',
          HOME: '/root',
        },
      }),
    )
    expect(env).toStrictEqual({SCHEDULE: 'kept', sched_api_token: 'kept (names are case-sensitive)', MY_SCHED_API_TOKEN: 'kept', HOME: '/root', ...RUN_VARS})
  })

  it('a SCHED_* variable set by the unit, a secret or a parameter is the user’s: passed on', () => {
    const env = composeEnv(layers({daemon: {SCHED_API_TOKEN: 'tok'}, unit: {SCHED_MODE: 'u'}, secrets: {SCHED_API_TOKEN: 'mine'}, params: {SCHED_LEVEL: '3'}}))
    expect(env).toStrictEqual({SCHED_MODE: 'u', SCHED_API_TOKEN: 'mine', SCHED_LEVEL: '3', ...RUN_VARS})
  })

  it('variables the daemon has declared but unset are skipped', () => {
    expect(composeEnv(layers({daemon: {GONE: undefined, KEPT: ''}}))).toStrictEqual({KEPT: '', ...RUN_VARS})
  })
})

describe('composeEnv: run variables', () => {
  it('SCHED_ATTEMPT is the retry attempt', () => {
    expect(composeEnv(layers({run: {...RUN, attempt: 3}})).SCHED_ATTEMPT).toBe('3')
  })

  it('SCHED_INSTANCE only for services, including instance 0', () => {
    expect(composeEnv(layers({}))).not.toHaveProperty('SCHED_INSTANCE')
    expect(composeEnv(layers({run: {task: 'web', runId: 'R', attempt: 0, instance: 0}}))).toStrictEqual({SCHED_TASK: 'web', SCHED_RUN_ID: 'R', SCHED_ATTEMPT: '0', SCHED_INSTANCE: '0'})
    expect(composeEnv(layers({run: {task: 'web', runId: 'R', attempt: 0, instance: 3}, unit: {SCHED_INSTANCE: '9'}})).SCHED_INSTANCE).toBe('3')
  })
})

describe('composeEnv: account variables when the run switches user', () => {
  const account = {HOME: '/home/backup', USER: 'backup', LOGNAME: 'backup'}

  it('HOME, USER and LOGNAME of the account replace the daemon’s', () => {
    const env = composeEnv(layers({daemon: {HOME: '/root', USER: 'root', LOGNAME: 'root', PATH: '/bin'}, account}))
    expect(env).toStrictEqual({HOME: '/home/backup', USER: 'backup', LOGNAME: 'backup', PATH: '/bin', ...RUN_VARS})
  })

  it('without a user switch the daemon’s stay', () => {
    expect(composeEnv(layers({daemon: {HOME: '/root', USER: 'root'}}))).toStrictEqual({HOME: '/root', USER: 'root', ...RUN_VARS})
  })

  it('an explicit unit env, secret or parameter still wins over the account', () => {
    expect(composeEnv(layers({account, unit: {HOME: '/srv/backup'}})).HOME).toBe('/srv/backup')
    expect(composeEnv(layers({account, secrets: {USER: 'svc'}})).USER).toBe('svc')
    expect(composeEnv(layers({account, params: {LOGNAME: 'p'}})).LOGNAME).toBe('p')
  })
})
