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
  it('a lazy change waits for the next write of that book, or for flush', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sched-books-'))
    const layout = new StateLayout(dir)
    const books = new UnitBooks(layout)
    const t0 = Date.UTC(2026, 0, 1)
    const tick = (s: number) => new Date(t0 + s * 1000).toISOString()
    const onDisk = (name: string) => JSON.parse(readFileSync(layout.unitFile(name), 'utf8'))
    books.ensure('a', t0)
    books.ensure('b', t0)
    await books.flush()
    books.update('a', t0, {last_tick: tick(1)}, {lazy: true})
    books.update('b', t0, {last_tick: tick(1)}, {lazy: true})
    await new Promise((r) => setTimeout(r, 50))
    expect(onDisk('a').last_tick).toBeNull()
    books.update('a', t0, {service: {status: 'running', instances: []}})
    await books.flush()
    expect(onDisk('a')).toMatchObject({last_tick: tick(1), service: {status: 'running'}})
    expect(onDisk('b').last_tick).toBe(tick(1))
    rmSync(dir, {recursive: true, force: true})
  })
})
