import {type FSWatcher, watch} from 'node:fs'
import type {RunRecord} from '../state/run-record.js'
import type {RunStore} from '../state/runs.js'

/**
 * Resolves with the run's record once it has ended. The daemon renames the record file when the
 * run ends, so a watch on the unit's run folder wakes us; a poll covers filesystems without
 * inotify.
 */
export function waitForRunEnd(store: RunStore, unit: string, id: string): Promise<RunRecord> {
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined
    const check = () => {
      const entry = store.find(unit, id)
      if (!entry || entry.state === 'active') return
      const record = store.readSync(entry)
      if (!record || record.status !== 'ended') return
      clearInterval(poll)
      watcher?.close()
      resolve(record)
    }
    const poll = setInterval(check, 200)
    try {
      watcher = watch(store.layout.runsDir(unit), () => check())
      watcher.on('error', () => {})
    } catch {
      // the poll still works
    }
    check()
  })
}
