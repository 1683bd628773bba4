import {describe, expect, it} from 'vitest'
import {CLUSTER_FIELDS, redactUrl} from '../../src/config/cluster.js'
import {type LoadOptions, loadConfigText} from '../../src/config/load.js'
import {diffConfigs} from '../../src/engine/config-diff.js'

const S = 1e9
const URL = 'postgres://sched:s3cret-pw@db.example:5432/sched'
const BASE: LoadOptions = {isRoot: false, hostZone: 'UTC', home: '/home/tester', env: {}, hostname: 'box-1'}

function load(text: string, options: LoadOptions = {}) {
  return loadConfigText(text, '/etc/sched/sched.toml', {...BASE, ...options})
}

function cluster(text: string, options: LoadOptions = {}) {
  const result = load(text, options)
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.key} ${e.message}`).join('\n'))
  return result.config.cluster
}

function onlyError(text: string, options: LoadOptions = {}) {
  const result = load(text, options)
  if (result.ok) throw new Error('expected an error')
  expect(result.errors, result.errors.map((e) => e.message).join('\n')).toHaveLength(1)
  return result.errors[0]
}

describe('[cluster] (SPEC §13)', () => {
  it('is absent without the table: the state directory is the whole truth', () => {
    expect(cluster('')).toBeUndefined()
  })

  it('defaults: node is the host name, lease 10s, advertise unset', () => {
    expect(cluster(`[cluster]\nurl = "${URL}"\n`)).toStrictEqual({url: URL, node: 'box-1', lease: 10 * S})
    expect(Object.keys(CLUSTER_FIELDS).sort()).toEqual(['advertise', 'lease', 'node', 'url'])
  })

  it('reads every key', () => {
    const text = `[cluster]\nurl = "postgresql://db/sched"\nnode = "eu-1.a"\nadvertise = "https://10.0.0.5:9477/"\nlease = "2.5s"\n`
    expect(cluster(text)).toStrictEqual({url: 'postgresql://db/sched', node: 'eu-1.a', advertise: 'https://10.0.0.5:9477', lease: 2.5 * S})
  })

  it('SCHED_CLUSTER_URL supplies the URL, and wins over the file', () => {
    expect(cluster('[cluster]\nnode = "a"\n', {env: {SCHED_CLUSTER_URL: URL}})?.url).toBe(URL)
    expect(cluster('[cluster]\nurl = "postgres://file/db"\n', {env: {SCHED_CLUSTER_URL: URL}})?.url).toBe(URL)
  })

  it('SCHED_CLUSTER_NODE names the node, over the file and the host name: every node loads the same file', () => {
    expect(cluster(`[cluster]\nurl = "${URL}"\n`, {env: {SCHED_CLUSTER_NODE: 'n-2'}})?.node).toBe('n-2')
    expect(cluster(`[cluster]\nurl = "${URL}"\nnode = "a"\n`, {env: {SCHED_CLUSTER_NODE: 'n-2'}})?.node).toBe('n-2')
    expect(cluster(`[cluster]\nurl = "${URL}"\nnode = "a"\n`, {env: {SCHED_CLUSTER_NODE: ''}})?.node).toBe('a')
  })

  it('SCHED_CLUSTER_ADVERTISE gives the node its API URL, over the file: each node is reached at its own address', () => {
    expect(cluster(`[cluster]\nurl = "${URL}"\n`, {env: {SCHED_CLUSTER_ADVERTISE: 'http://10.0.0.7:9477/'}})?.advertise).toBe('http://10.0.0.7:9477')
    expect(cluster(`[cluster]\nurl = "${URL}"\nadvertise = "http://a:1"\n`, {env: {SCHED_CLUSTER_ADVERTISE: 'https://b:2'}})?.advertise).toBe('https://b:2')
    expect(cluster(`[cluster]\nurl = "${URL}"\nadvertise = "http://a:1"\n`, {env: {SCHED_CLUSTER_ADVERTISE: ''}})?.advertise).toBe('http://a:1')
  })

  it('SCHED_CLUSTER_URL without a [cluster] table only warns: joining a cluster is a decision of the file', () => {
    const result = load('', {env: {SCHED_CLUSTER_URL: URL}})
    expect(result.ok && result.config.cluster).toBe(undefined)
    expect(result.warnings.map((w) => w.message)).toEqual(['SCHED_CLUSTER_URL is set but the file has no [cluster] table: this daemon runs on its own'])
  })

  it.each<[string, string, string, LoadOptions?]>([
    ['node = "a"', 'cluster', '[cluster] needs the PostgreSQL URL'],
    [`url = "mysql://u:${'hunter2'}@h/db"`, 'cluster.url', 'expected a PostgreSQL URL such as postgres://sched:PASSWORD@db.example:5432/sched, got "mysql://u:***@h/db"'],
    ['url = 5', 'cluster.url', 'expected a string, got the integer 5'],
    [`url = "${URL}"\nnode = "a b"`, 'cluster.node', 'node name "a b" must be 1-100 characters'],
    [`url = "${URL}"\nnode = ".."`, 'cluster.node', '".." is not a usable name'],
    [`url = "${URL}"\nadvertise = "localhost:9477"`, 'cluster.advertise', 'expected an http:// or https:// URL, got "localhost:9477"'],
    [`url = "${URL}"\nadvertise = "not a url"`, 'cluster.advertise', 'expected an http(s) URL such as "http://10.0.0.5:9477"'],
    [`url = "${URL}"\nadvertise = "http://u:p@h:1"`, 'cluster.advertise', 'must not hold credentials'],
    [`url = "${URL}"\nadvertise = "http://h:1/?x=1"`, 'cluster.advertise', 'must not have a query or fragment'],
    [`url = "${URL}"\nlease = "500ms"`, 'cluster.lease', 'must be at least 1s, got 500ms'],
    [`url = "${URL}"\nlease = "11m"`, 'cluster.lease', 'must be at most 10m, got 11m'],
    [`url = "${URL}"\nleas = "5s"`, 'cluster.leas', 'unknown key "leas" in [cluster]'],
    ['', 'cluster', 'SCHED_CLUSTER_URL: expected a PostgreSQL URL', {env: {SCHED_CLUSTER_URL: 'http://user:topsecret@h'}}],
    [`url = "${URL}"`, 'cluster', 'the host name "my host" cannot be a node name', {hostname: 'my host'}],
    [`url = "${URL}"`, 'cluster', 'SCHED_CLUSTER_NODE: node name "a b" must be 1-100 characters', {env: {SCHED_CLUSTER_NODE: 'a b'}}],
    [`url = "${URL}"`, 'cluster', 'SCHED_CLUSTER_ADVERTISE: expected an http(s) URL such as "http://10.0.0.5:9477", got "10.0.0.7:9477"', {env: {SCHED_CLUSTER_ADVERTISE: '10.0.0.7:9477'}}],
  ])('%s → %s: %s', (body, key, message, options = {}) => {
    const issue = onlyError(`[cluster]\n${body}\n`, options)
    expect(issue.key).toBe(key)
    expect(issue.message).toContain(message)
    expect(JSON.stringify(issue)).not.toMatch(/hunter2|topsecret|s3cret/)
  })

  it('an error is at the line of the key', () => {
    expect(onlyError(`# c\n[cluster]\nurl = "${URL}"\nlease = "x"\n`)).toMatchObject({key: 'cluster.lease', line: 4, column: 1})
  })

  it('a change of [cluster] needs a restart, like [daemon]', () => {
    const a = load(`[cluster]\nurl = "${URL}"\n`)
    const b = load(`[cluster]\nurl = "${URL}"\nlease = "20s"\n`)
    if (!a.ok || !b.ok) throw new Error('expected both to load')
    expect(diffConfigs(a.config, b.config)).toStrictEqual({ok: false, message: '[cluster] changed: restart required (sched serve); nothing changed'})
    expect(diffConfigs(a.config, a.config).ok).toBe(true)
  })
})

describe('redactUrl', () => {
  it.each([
    ['postgres://sched:pw@db:5432/sched', 'postgres://sched:***@db:5432/sched'],
    ['postgresql://u:p%40ss:word@/db?host=/run/pg', 'postgresql://u:***@/db?host=/run/pg'],
    ['postgres://db/sched?sslmode=require&password=pw', 'postgres://db/sched?sslmode=require&password=***'],
    ['postgres://db/sched?PASSWORD=pw#x', 'postgres://db/sched?PASSWORD=***#x'],
    ['postgres://sched@db/sched', 'postgres://sched@db/sched'],
    ['postgres://db/sched', 'postgres://db/sched'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown)
  })
})
