import {mkdirSync, readdirSync, unlinkSync} from 'node:fs'
import {unlink} from 'node:fs/promises'
import {join} from 'node:path'
import type {NotificationRecord, NotificationStatus} from '../core/notify.js'
import {writeFileAtomic} from '../state/atomic.js'
import {type CorruptReport, STATE_FORMAT, readStateFile} from '../state/json-file.js'
import type {StateLayout} from '../state/layout.js'
import type {Notice} from './notice.js'

/** A message waiting to be delivered: `outbox/<id>.json`, written before the first attempt. */
export interface OutboxEntry {
  readonly v: number
  readonly notice: Notice
  readonly attempts: number
  readonly last_error: string | null
  /** The remote's last answer (status and body or reply line). */
  readonly last_response: string | null
  readonly next_attempt_at: string
  readonly deadline_at: string
}

/** How many settled notifications are kept on disk (oldest removed first). */
export const HISTORY_KEEP = 1000

export function recordOf(entry: OutboxEntry, status: NotificationStatus, finishedAt: string | null): NotificationRecord {
  const n = entry.notice
  return {
    v: STATE_FORMAT,
    id: n.id,
    event: n.event,
    task: n.task,
    run_id: n.run_id,
    route: n.route,
    notifier: n.notifier,
    title: n.title,
    count: n.count,
    status,
    attempts: entry.attempts,
    last_error: entry.last_error,
    last_response: entry.last_response,
    created_at: n.created_at,
    finished_at: finishedAt,
  }
}

/**
 * The crash-safe outbox (SPEC §14): a message is on disk (temp file, fsync, rename) before it is
 * first sent and stays there until it is settled; settling writes its history record first and
 * removes the outbox file second, so a crash in between leaves a message that boot recognises as
 * settled — never one sent twice on purpose, never one lost. Credentials are never in these files:
 * they come from the config at send time.
 */
export class Outbox {
  private readonly settled: string[] = []

  constructor(
    private readonly layout: StateLayout,
    private readonly onCorrupt?: CorruptReport,
  ) {}

  /** Boot: the messages still to deliver, and the settled ones (oldest first). */
  load(): {pending: OutboxEntry[]; history: NotificationRecord[]} {
    mkdirSync(this.layout.outboxDir, {recursive: true, mode: 0o700})
    mkdirSync(this.layout.notificationsDir, {recursive: true, mode: 0o700})
    const read = <T extends {v: number}>(path: string) => readStateFile<T>(path, {corruptDir: this.layout.corruptDir, onCorrupt: this.onCorrupt})
    const history: NotificationRecord[] = []
    for (const file of listJson(this.layout.notificationsDir).sort()) {
      const record = read<NotificationRecord>(join(this.layout.notificationsDir, file))
      if (record) {
        history.push(record)
        this.settled.push(file)
      }
    }
    const done = new Set(history.map((r) => r.id))
    const pending: OutboxEntry[] = []
    for (const file of listJson(this.layout.outboxDir).sort()) {
      const path = join(this.layout.outboxDir, file)
      if (done.has(file.slice(0, -'.json'.length))) {
        removeSync(path)
        continue
      }
      const entry = read<OutboxEntry>(path)
      if (entry) pending.push(entry)
    }
    const dropped = this.prune()
    return {pending, history: history.slice(dropped)}
  }

  /** Writes (or rewrites) a pending message. */
  put(entry: OutboxEntry): Promise<void> {
    return writeFileAtomic(this.entryPath(entry.notice.id), JSON.stringify(entry))
  }

  /** Records the message as settled, then takes it out of the outbox. */
  async settle(record: NotificationRecord): Promise<void> {
    const file = `${record.id}.${record.status}.json`
    await writeFileAtomic(join(this.layout.notificationsDir, file), JSON.stringify(record))
    this.settled.push(file)
    await unlink(this.entryPath(record.id)).catch(() => {})
    this.prune()
  }

  private entryPath(id: string): string {
    return join(this.layout.outboxDir, `${id}.json`)
  }

  /** Removes the oldest settled records beyond HISTORY_KEEP; returns how many went. */
  private prune(): number {
    const excess = this.settled.length - HISTORY_KEEP
    if (excess <= 0) return 0
    for (const file of this.settled.splice(0, excess)) removeSync(join(this.layout.notificationsDir, file))
    return excess
  }
}

function listJson(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json'))
}

function removeSync(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
