import {afterEach, describe, expect, it} from 'vitest'
import {LeaseBook, acquireSlot, listSlots, releaseSlot, renewSlots, slotViews} from '../../src/cluster/leases.js'
import type {Owner} from '../../src/cluster/runs.js'
import {closeDbs, clusterDb, migratedDb} from '../support/cluster.js'
import {describePg} from '../support/postgres.js'

afterEach(closeDbs)

const A: Owner = {node: 'a', incarnation: '00000000-0000-4000-8000-00000000000a'}
const B: Owner = {node: 'b', incarnation: '00000000-0000-4000-8000-00000000000b'}
const C: Owner = {node: 'c', incarnation: '00000000-0000-4000-8000-00000000000c'}
const LEASE = 10_000

describePg('slot leases with fencing tokens', () => {
  it('one holder per slot; after it expires the next holder gets a larger token and the old one loses it', async () => {
    const {db} = await migratedDb()
    const first = await acquireSlot(db, 'web', '0', A, LEASE)
    expect(first).toBeGreaterThan(0)
    expect(await acquireSlot(db, 'web', '0', B, LEASE)).toBeNull()
    expect(await acquireSlot(db, 'web', '0', A, LEASE)).toBeNull() // held already: renew, do not re-take
    expect(await renewSlots(db, A, LEASE)).toEqual([{service: 'web', slot: '0', token: first}])

    await db.query("UPDATE sched.slots SET expires_at = now() - interval '1 millisecond'") // a stopped renewing
    const second = await acquireSlot(db, 'web', '0', B, LEASE)
    expect(second).toBeGreaterThan(first!)
    expect(await renewSlots(db, A, LEASE)).toEqual([])
    // The old holder's release carries the old token: it cannot free the new holder's slot.
    expect(await releaseSlot(db, {service: 'web', slot: '0', token: first!})).toBe(false)
    expect(await releaseSlot(db, {service: 'web', slot: '0', token: second!})).toBe(true)
    expect(await acquireSlot(db, 'web', '0', C, LEASE)).toBeGreaterThan(second!)
  })

  it('three nodes racing for five slots: every slot has exactly one holder', async () => {
    const {url} = await migratedDb()
    const owners = [A, B, C]
    const won = await Promise.all(owners.map(async (me) => {
      const db = clusterDb(url)
      const got: string[] = []
      for (const slot of ['0', '1', '2', '3', '4']) if ((await acquireSlot(db, 'api', slot, me, LEASE)) !== null) got.push(slot)
      return got
    }))
    expect(won.flat().sort()).toEqual(['0', '1', '2', '3', '4'])
    const {slots} = await listSlots(clusterDb(url))
    expect(slots.map((s) => s.slot)).toEqual(['0', '1', '2', '3', '4'])
    expect(new Set(slots.map((s) => s.token)).size).toBe(5)
  })

  it('slotViews: held, expired, released and never taken', async () => {
    const {db} = await migratedDb()
    await acquireSlot(db, 'web', '0', A, LEASE)
    await acquireSlot(db, 'web', '1', B, LEASE)
    await db.query("UPDATE sched.slots SET expires_at = now() - interval '4 seconds' WHERE slot = '1'")
    const {slots, dbNow} = await listSlots(db)
    const views = slotViews(slots, 'web', ['0', '1', '2'], dbNow - 60_000, dbNow)
    expect(views.get('0')).toEqual({holder: 'a', freeForMs: 0})
    expect(views.get('1')?.holder).toBeNull()
    expect(views.get('1')?.freeForMs).toBeGreaterThanOrEqual(4000)
    expect(views.get('2')).toEqual({holder: null, freeForMs: 60_000})
  })
})

describe('LeaseBook: what the node believes it holds, and what to do about it', () => {
  const web0 = {service: 'web', slot: '0', token: 7}
  const web1 = {service: 'web', slot: '1', token: 8}

  it('keeps, stops and kills by the last confirmation, without asking the database', () => {
    const book = new LeaseBook()
    book.acquired(web0, 1000)
    book.acquired(web1, 1000)
    expect(book.renewed([web0, web1], 4000)).toEqual([])
    const at = (now: number) => book.verdicts(now, LEASE, () => 3000).map((v) => `${v.slot}:${v.action}`)
    expect(at(5000)).toEqual(['0:keep', '1:keep'])
    // Deadline 4000 + 10 000 − 1000 = 13 000; the ladder starts graceful_stop (3 s), at most a
    // quarter lease (2.5 s), before it.
    expect(at(10_499)).toEqual(['0:keep', '1:keep'])
    expect(at(10_500)).toEqual(['0:stop', '1:stop'])
    expect(at(13_000)).toEqual(['0:kill', '1:kill'])
  })

  it('a lease missing from a renewal (or with another token) is lost: kill at once, reported once', () => {
    const book = new LeaseBook()
    book.acquired(web0, 0)
    book.acquired(web1, 0)
    const lost = book.renewed([web0, {...web1, token: 99}], 100)
    expect(lost.map((l) => l.slot)).toEqual(['1'])
    expect(book.renewed([web0], 200)).toEqual([])
    expect(book.verdicts(300, LEASE, () => 0).map((v) => `${v.slot}:${v.action}`)).toEqual(['0:keep', '1:kill'])
    book.forget(web1)
    expect(book.all().map((l) => l.slot)).toEqual(['0'])
  })

  it('a renewal sent before an acquisition was answered cannot judge it: not lost', () => {
    const book = new LeaseBook()
    book.acquired(web0, 0)
    book.acquired(web1, 90, 150) // sent at 90, answered at 150
    expect(book.renewed([web0], 100)).toEqual([]) // sent at 100: may have missed web1's row
    expect(book.get('web', '1')?.lost).toBe(false)
    expect(book.renewed([web0], 200).map((l) => l.slot)).toEqual(['1']) // sent after: it would have seen it
  })
})
