import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {checkImport} from '../../src/import/check.js'
import {convertCompose, projectName} from '../../src/import/compose.js'
import {loadConfigText} from '../../src/config/load.js'
import {renderUnits} from '../../src/import/toml-writer.js'
import {expectGoldenText} from '../support/golden-text.js'
import {IMPORT_FIXTURES, accepted, readFixture} from '../support/import.js'

const FILE = join(IMPORT_FIXTURES, 'docker-compose.yml')
const convert = (text: string, options: {project?: string; services?: string[]} = {}) =>
  convertCompose(text, {source: 'docker-compose.yml', path: FILE, configDir: IMPORT_FIXTURES, ...options})

describe('import compose', () => {
  it('a web + worker + db stack with healthchecks, both depends_on forms, a migration and a backup job with x-sched', () => {
    const result = convert(readFixture('docker-compose.yml'))
    expectGoldenText('import/compose.toml', accepted(result, join(IMPORT_FIXTURES, 'sched.toml')))
    expect(result.units.map((u) => [u.name, u.kind])).toEqual([
      ['web', 'service'],
      ['worker', 'service'],
      ['db', 'service'],
      ['migrate', 'task'],
      ['backup', 'task'],
      ['adminer', 'service'],
    ])
    expect(result.unmapped.map((u) => [u.line, u.what])).toEqual([
      [20, 'services.web.depends_on.migrate'],
      [33, 'services.worker.restart: on-failure:5'],
      [37, 'services.worker.replicas: 2'],
      [52, 'services.migrate.depends_on.db'],
      [58, 'services.backup.depends_on.db'],
    ])
  })

  it('every unit runs its Compose service through docker compose, with compose provenance in GET /api/tasks', () => {
    const text = accepted(convert(readFixture('docker-compose.yml')), join(IMPORT_FIXTURES, 'sched.toml'))
    const result = loadConfigText(text, join(IMPORT_FIXTURES, 'sched.toml'), {isRoot: true, hostZone: 'UTC'})
    if (!result.ok) throw new Error('did not load')
    const unit = (name: string) => result.config.units.find((u) => u.name === name)!
    expect(unit('web').run).toBe(`exec docker compose -p shop -f ${FILE} up --no-deps --no-log-prefix --exit-code-from web web`)
    expect(unit('backup').run).toBe(`exec docker compose -p shop -f ${FILE} run --rm -e PGDATABASE backup`)
    expect(unit('backup').compose).toEqual({file: FILE, project_name: 'shop', service: 'backup'})
    expect(unit('web')).toMatchObject({depends_on: ['db'], healthy_after: 20e9, graceful_stop: 40e9, stop_signal: 'SIGTERM'})
    expect(unit('backup')).toMatchObject({cron: '30 2 * * *', timezone: 'Europe/Bratislava', stop_signal: 'SIGINT', graceful_stop: 60e9, retry_attempts: 2})
    expect(unit('adminer')).toMatchObject({autostart: false, group: 'debug'})
  })

  it('--project and --services; a dependency left out is listed, not kept', () => {
    const result = convert(readFixture('docker-compose.yml'), {project: 'Shop-Prod', services: ['web', 'worker']})
    expect(result.units.map((u) => u.name)).toEqual(['web', 'worker'])
    expect(result.units[0].fields.compose).toMatchObject({project_name: 'Shop-Prod'})
    expect(result.units[0].fields.depends_on).toBeUndefined()
    expect(result.unmapped.map((u) => u.what)).toContain('services.web.depends_on.db')
    expect(convert(readFixture('docker-compose.yml'), {services: ['nope']}).errors).toEqual([
      {source: 'docker-compose.yml', line: 10, message: expect.stringContaining('--services names "nope"')},
    ])
  })

  it('the project is the directory name in compose\'s alphabet when the file has no name', () => {
    expect(projectName(undefined, '/srv/My Shop.v2/compose.yaml')).toBe('myshopv2')
    expect(projectName('Shop', '/x/compose.yaml')).toBe('shop')
  })

  it('a file is named relative to the config when it lies below it, absolute otherwise', () => {
    const text = 'services:\n  web:\n    image: nginx\n'
    expect(convertCompose(text, {source: 'c.yml', path: '/srv/app/c.yml', configDir: '/srv/app'}).units[0].fields.compose).toMatchObject({file: 'c.yml'})
    expect(convertCompose(text, {source: 'c.yml', path: '/srv/app/c.yml', configDir: '/etc/sched'}).units[0].fields.compose).toMatchObject({file: '/srv/app/c.yml'})
  })

  it('bad input: YAML errors, a file without services, a bad duration, x-sched keys sched does not know — each at its line', () => {
    expect(convert('services:\n  web:\n    image: [nginx\n').errors[0]).toMatchObject({line: expect.any(Number), message: expect.stringMatching(/^YAML: /)})
    expect(convert('version: "3"\n').errors).toEqual([{source: 'docker-compose.yml', line: 1, message: 'expected a Compose file with a services: mapping'}])
    expect(convert('services:\n  web:\n    image: nginx\n    stop_grace_period: soon\n').errors).toEqual([
      {source: 'docker-compose.yml', line: 4, message: 'services.web.stop_grace_period: expected a duration such as "30s" or "1m30s", got "soon"'},
    ])
    const job = convert('services:\n  job:\n    image: alpine\n    x-sched:\n      cron: "0 3 * * *"\n      retyr_attempts: 2\n')
    expect(job.errors).toEqual([])
    expect(checkImport(renderUnits(job.units), join(IMPORT_FIXTURES, 'sched.toml'), job.units).errors).toEqual([
      {source: 'docker-compose.yml', line: 6, message: 'retyr_attempts: unknown key "retyr_attempts" (did you mean "retry_attempts"?)'},
    ])
  })
})
