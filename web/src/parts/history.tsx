import {END_REASONS, RUN_STATUS, TRIGGER_SOURCES} from '../../../src/core/types.js'
import {durationMs, formatRelative, zonedTime} from '../format.js'
import {Outcome} from './badges.js'
import {Pager} from './pager.js'
import {runPath} from '../router.js'
import type {Run} from '../types.js'

export interface HistoryQuery {
  readonly status: string
  readonly triggered_by: string
  /** Ids of the pages before this one's first run: `before` cursors, so Newer goes back. */
  readonly cursors: readonly string[]
}

export const PAGE_SIZE = 50

export function historyUrl(task: string, q: HistoryQuery): string {
  const p = new URLSearchParams({task_name: task, limit: String(PAGE_SIZE)})
  if (q.status) p.set('status', q.status)
  if (q.triggered_by) p.set('triggered_by', q.triggered_by)
  const before = q.cursors.at(-1)
  if (before) p.set('before', before)
  return `/api/runs?${p}`
}

/** A unit's runs, newest first, filtered by status and trigger, a page at a time over any number of runs. */
export function History(props: {readonly page: {runs: Run[]; total: number; next: string | null} | undefined; readonly query: HistoryQuery; readonly onQuery: (q: HistoryQuery) => void; readonly now: number}) {
  const {page, query, onQuery} = props
  const first = query.cursors.length * PAGE_SIZE
  return (
    <div class="history">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status{' '}
          <select name="status" value={query.status} onChange={(e) => onQuery({...query, status: e.currentTarget.value, cursors: []})}>
            <option value="">any</option>
            {[...RUN_STATUS, ...END_REASONS].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Triggered by{' '}
          <select name="triggered_by" value={query.triggered_by} onChange={(e) => onQuery({...query, triggered_by: e.currentTarget.value, cursors: []})}>
            <option value="">any</option>
            {TRIGGER_SOURCES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span class="count">{page ? (page.total === 0 ? 'no runs' : `${first + 1}–${first + page.runs.length} of ${page.total}`) : 'loading…'}</span>
        <Pager cursors={query.cursors} next={page?.next} onCursors={(cursors) => onQuery({...query, cursors})} />
      </form>
      <table class="runs">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Outcome</th>
            <th scope="col">Trigger</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Exit</th>
            <th scope="col">Attempt</th>
          </tr>
        </thead>
        <tbody>
          {page?.runs.map((r) => {
            const at = Date.parse(r.started_at ?? r.created_at)
            return (
              <tr key={r.id}>
                <th scope="row">
                  <a href={runPath(r.id)}>
                    <code>{r.id}</code>
                  </a>
                  {r.instance_index !== null && <span class="dim"> #{r.instance_index}</span>}
                </th>
                <td>
                  <Outcome run={r} />
                </td>
                <td>{r.triggered_by}</td>
                <td title={zonedTime(at)}>{formatRelative(at, props.now)}</td>
                <td>{r.duration_ms !== null ? durationMs(r.duration_ms) : '—'}</td>
                <td>{r.signal ?? r.exit_code ?? '—'}</td>
                <td>{r.retry_attempt + 1}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
