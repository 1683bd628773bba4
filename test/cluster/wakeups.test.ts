import {afterEach, expect, it} from 'vitest'
import {admitRun} from '../../src/cluster/admission.js'
import type {Owner} from '../../src/cluster/runs.js'
import {Wakeups} from '../../src/cluster/wakeups.js'
import {closeDbs, endUnstarted, migratedDb, pendingRun} from '../support/cluster.js'
import {FakeClock} from '../support/fake-clock.js'
import {describePg} from '../support/postgres.js'
import {until} from '../support/sandbox.js'
import {TcpProxy} from '../support/tcp-proxy.js'

const A: Owner = {node: 'a', incarnation: '00000000-0000-4000-8000-00000000000a'}
const B: Owner = {node: 'b', incarnation: '00000000-0000-4000-8000-00000000000b'}
const opened: Wakeups[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.close()))
  await closeDbs()
})

function listen(url: string, node: string, clock = new FakeClock(0)) {
  const heard: string[] = []
  const w = new Wakeups({url, clock, node, pollMs: 5000, handlers: {work: (task) => heard.push(`work ${task ?? '*'}`), stops: () => heard.push('stops')}})
  opened.push(w)
  return {w, heard, clock}
}

describePg('wake-ups: LISTEN/NOTIFY with a slow poll behind it', () => {
  it('a queued run wakes the other nodes; a stop request wakes only the node that runs the victim', async () => {
    const {url, db} = await migratedDb()
    const a = listen(url, 'a')
    const b = listen(url, 'b')
    await Promise.all([a.w.start(), b.w.start()])
    const unit = {name: 'job', on_overlap: 'terminate' as const, max_concurrent: 1, queue_max: 10}
    await admitRun(db, unit, pendingRun('job'), A, endUnstarted)
    await admitRun(db, unit, pendingRun('job'), B, endUnstarted)
    await until(() => a.heard.includes('stops') && b.heard.includes('work job'), 5000, 'the notifications')
    expect(a.heard).toEqual(['work job', 'stops'])
    expect(b.heard).toEqual(['work job'])
  })

  it('the poll looks at everything on the clock, with or without notifications', async () => {
    const {url} = await migratedDb()
    const a = listen(url, 'a')
    await a.w.start()
    a.clock.advance(4999)
    expect(a.heard).toEqual([])
    a.clock.advance(1)
    expect(a.heard).toEqual(['work *', 'stops'])
    a.clock.advance(5000)
    expect(a.heard).toHaveLength(4)
  })

  it('a dropped LISTEN connection is re-made with backoff, and the node then looks at everything', async () => {
    const {url, db} = await migratedDb()
    const target = new URL(url)
    const proxy = await TcpProxy.start(target.hostname, Number(target.port))
    try {
      const a = listen(proxy.via(url), 'a')
      await a.w.start()
      expect(a.w.listening).toBe(true)
      await proxy.cut()
      await until(() => !a.w.listening, 5000, 'the connection loss to be seen')
      await proxy.restore()
      a.clock.advance(250)
      await until(() => a.w.listening, 5000, 'the reconnection')
      expect(a.heard).toEqual(['work *', 'stops'])
      // max_concurrent 0: the run can only queue, which notifies.
      await admitRun(db, {name: 'x', on_overlap: 'queue', max_concurrent: 0, queue_max: 10}, pendingRun('x'), A, endUnstarted)
      await until(() => a.heard.includes('work x'), 5000, 'a notification after reconnecting')
    } finally {
      await proxy.close()
    }
  })
})
