import {mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {StateLayout} from '../../src/state/layout.js'
import {UnitBooks} from '../../src/state/unit-books.js'

describe('UnitBooks', () => {
  it('a burst of updates leaves the newest state on disk, 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sched-books-'))
    const layout = new StateLayout(dir)
    const books = new UnitBooks(layout)
    const t0 = Date.UTC(2026, 0, 1)
    books.ensure('tick', t0)
    for (let i = 1; i <= 100; i++) books.update('tick', t0, {last_tick: new Date(t0 + i * 1000).toISOString()})
    await books.flush()
    const onDisk = JSON.parse(readFileSync(layout.unitFile('tick'), 'utf8'))
    expect(onDisk).toEqual({v: 1, first_seen: new Date(t0).toISOString(), last_tick: new Date(t0 + 100_000).toISOString()})
    const again = new UnitBooks(layout)
    again.load()
    expect(again.get('tick')?.last_tick).toBe(new Date(t0 + 100_000).toISOString())
    rmSync(dir, {recursive: true, force: true})
  })

  it('a corrupt book is reported and set aside, not fatal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sched-books-'))
    const layout = new StateLayout(dir)
    mkdirSync(layout.unitsDir, {recursive: true})
    writeFileSync(layout.unitFile('bad'), '{"v":1, "first_se')
    const problems: string[] = []
    const books = new UnitBooks(layout)
    books.load((path, problem) => problems.push(`${path}: ${problem}`))
    expect(books.get('bad')).toBeUndefined()
    expect(problems).toEqual([expect.stringMatching(/bad\.json: not valid JSON/)])
    rmSync(dir, {recursive: true, force: true})
  })
})
