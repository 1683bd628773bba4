import type {RunRecord} from '../state/run-record.js'
import {type RunEntry, entryOf} from '../state/runs.js'

/**
 * Every run the state directory holds, as listing entries sorted by id, kept by the daemon so
 * that GET /api/runs is a pass over memory, not a directory listing: built at boot, updated from
 * run events, trimmed by retention.
 */
export class RunIndex {
  private entries: RunEntry[] = []
  private readonly byId = new Map<string, RunEntry>()

  load(entries: readonly RunEntry[]): void {
    this.entries = [...entries]
    this.byId.clear()
    for (const e of this.entries) this.byId.set(e.id, e)
  }

  /** Records a run's current state; a new id (the common case) is newer than all others. */
  upsert(record: RunRecord): void {
    const entry = entryOf(record)
    const existing = this.byId.get(record.id)
    this.byId.set(record.id, entry)
    if (existing) {
      this.entries[this.indexOf(record.id)] = entry
    } else if (this.entries.length === 0 || this.entries.at(-1)!.id < record.id) {
      this.entries.push(entry)
    } else {
      this.entries.splice(this.insertionPoint(record.id), 0, entry)
    }
  }

  remove(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return
    this.entries = this.entries.filter((e) => !ids.has(e.id))
    for (const id of ids) this.byId.delete(id)
  }

  find(id: string): RunEntry | undefined {
    return this.byId.get(id)
  }

  all(): readonly RunEntry[] {
    return this.entries
  }

  private indexOf(id: string): number {
    const i = this.insertionPoint(id)
    return this.entries[i]?.id === id ? i : -1
  }

  /** Binary search: the first position whose id is not less than `id`. */
  private insertionPoint(id: string): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.entries[mid].id < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
