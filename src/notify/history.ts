import {ExitCode, SchedError} from '../core/errors.js'
import {NOTIFICATION_STATUSES as STATUSES, NOTIFY_EVENTS, type NotificationRecord} from '../core/notify.js'
import {newestFirst} from '../state/run-query.js'

export interface NotificationQuery {
  readonly status?: string
  readonly notifier?: string
  readonly event?: string
  readonly task?: string
  readonly limit: number
  /** Only notifications older than this id (the previous page's `next`). */
  readonly before?: string
}

export interface NotificationPage {
  readonly notifications: NotificationRecord[]
  readonly total: number
  readonly next: string | null
}

const EVENTS: readonly string[] = [...NOTIFY_EVENTS]

/**
 * Every notification the daemon knows, oldest first: the settled ones (as kept on disk) and the
 * ones still pending, whose record changes with each attempt. Paged like GET /api/runs.
 */
export class NotificationHistory {
  private records: NotificationRecord[] = []
  private readonly index = new Map<string, number>()

  constructor(private readonly keep: number) {}

  load(records: readonly NotificationRecord[]): void {
    for (const r of records) this.upsert(r)
  }

  /** Adds or replaces a record; ids are ULIDs, so a new one almost always goes at the end. */
  upsert(record: NotificationRecord): void {
    const at = this.index.get(record.id)
    if (at !== undefined) {
      this.records[at] = record
      return
    }
    let i = this.records.length
    while (i > 0 && this.records[i - 1].id > record.id) i--
    this.records.splice(i, 0, record)
    const excess = this.records.length - this.keep
    if (excess > 0) this.records.splice(0, excess)
    if (excess > 0 || i < this.records.length - 1) {
      this.index.clear()
      this.records.forEach((r, j) => this.index.set(r.id, j))
    } else {
      this.index.set(record.id, i)
    }
  }

  query(q: NotificationQuery): NotificationPage {
    if (q.status !== undefined && !(STATUSES as readonly string[]).includes(q.status)) {
      throw new SchedError(`unknown status "${q.status}"`, {exit: ExitCode.usage, hint: `use one of ${STATUSES.join(', ')}`})
    }
    if (q.event !== undefined && !EVENTS.includes(q.event) && q.event !== 'notify.test') {
      throw new SchedError(`unknown event "${q.event}"`, {exit: ExitCode.usage, hint: `use one of ${EVENTS.join(', ')}`})
    }
    const page: NotificationRecord[] = []
    let total = 0
    let more = false
    for (const r of newestFirst(this.records)) {
      if ((q.status !== undefined && r.status !== q.status) || (q.notifier !== undefined && r.notifier !== q.notifier)) continue
      if ((q.event !== undefined && r.event !== q.event) || (q.task !== undefined && r.task !== q.task)) continue
      total++
      if (q.before !== undefined && r.id >= q.before) continue
      if (page.length < q.limit) page.push(r)
      else more = true
    }
    return {notifications: page, total, next: more && page.length ? page.at(-1)!.id : null}
  }
}
