import {writeFileAtomic} from '../state/atomic.js'
import {type CorruptReport, STATE_FORMAT, readStateFile} from '../state/json-file.js'
import type {StateLayout} from '../state/layout.js'
import type {Streak} from './events.js'

interface MemoryFile {
  readonly v: number
  /** Tasks whose last reported outcome was a failure: their next success is run.recovered. */
  readonly failing: readonly string[]
  /** Services in a FATAL episode: reaching `running` again is service.recovered. */
  readonly fatal: readonly string[]
}

/**
 * What notifications remember across restarts, so "recovered" is told after a daemon restart
 * too: `notify.json`, written (atomically, one write at a time) only when something flips, which
 * is rare — a task that keeps failing or keeps succeeding writes nothing.
 */
export class NotifyMemory {
  private readonly failing = new Set<string>()
  private readonly fatal = new Set<string>()
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly layout: StateLayout,
    private readonly onError: (error: string) => void,
  ) {}

  load(onCorrupt?: CorruptReport): void {
    const file = readStateFile<MemoryFile>(this.layout.notifyStateFile, {corruptDir: this.layout.corruptDir, onCorrupt})
    for (const t of file?.failing ?? []) this.failing.add(t)
    for (const s of file?.fatal ?? []) this.fatal.add(s)
  }

  streak(task: string): Streak {
    return this.failing.has(task) ? 'failing' : 'ok'
  }

  isFatal(service: string): boolean {
    return this.fatal.has(service)
  }

  setStreak(task: string, streak: Streak): void {
    if ((streak === 'failing') === this.failing.has(task)) return
    if (streak === 'failing') this.failing.add(task)
    else this.failing.delete(task)
    this.save()
  }

  setFatal(service: string, fatal: boolean): void {
    if (fatal === this.fatal.has(service)) return
    if (fatal) this.fatal.add(service)
    else this.fatal.delete(service)
    this.save()
  }

  /** Resolves when every write issued so far is on disk. */
  flush(): Promise<void> {
    return this.writing
  }

  private save(): void {
    this.writing = this.writing.then(async () => {
      const file: MemoryFile = {v: STATE_FORMAT, failing: [...this.failing].sort(), fatal: [...this.fatal].sort()}
      try {
        await writeFileAtomic(this.layout.notifyStateFile, JSON.stringify(file))
      } catch (error) {
        this.onError((error as Error).message)
      }
    })
  }
}
