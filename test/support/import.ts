import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'
import {checkImport} from '../../src/import/check.js'
import type {ImportResult} from '../../src/import/model.js'
import {renderUnits} from '../../src/import/toml-writer.js'

export const IMPORT_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'import')

export function readFixture(name: string): string {
  return readFileSync(join(IMPORT_FIXTURES, name), 'utf8')
}

/** The TOML an import writes, once sched's own loader has accepted every unit of it. */
export function accepted(result: ImportResult, configPath = '/etc/sched/sched.toml'): string {
  expect(result.errors).toEqual([])
  const text = renderUnits(result.units, ['header'])
  const checked = checkImport(text, configPath, result.units, {isRoot: true, hostZone: 'UTC'})
  expect(checked.errors).toEqual([])
  expect(checked.units.map((u) => u.name).sort()).toEqual(result.units.map((u) => u.name).sort())
  return text
}
