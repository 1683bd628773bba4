import {useState} from 'preact/hooks'
import {NOTIFICATION_STATUSES} from '../../../src/core/notify.js'
import {get} from '../api.js'
import {formatRelative, zonedTime} from '../format.js'
import {useNow, useResource} from '../hooks.js'
import {runPath, unitPath} from '../router.js'
import {Pager} from '../parts/pager.js'
import type {NotificationPage} from '../types.js'

const PAGE_SIZE = 50
const STATUS_CLASS = {pending: 'active', sent: 'ok', failed: 'fail'} as const

/** The notification history (GET /api/notifications): what was told to whom, and what became of it. */
export function NotificationsPage() {
  const [status, setStatus] = useState('')
  /** `before` cursors of the pages before this one, so Newer goes back. */
  const [cursors, setCursors] = useState<readonly string[]>([])
  const page = useResource(() => {
    const p = new URLSearchParams({limit: String(PAGE_SIZE)})
    if (status) p.set('status', status)
    const before = cursors.at(-1)
    if (before) p.set('before', before)
    return get<NotificationPage>(`/api/notifications?${p}`)
  }, [status, cursors])
  const now = useNow(10_000)
  const d = page.data
  const first = cursors.length * PAGE_SIZE
  return (
    <section class="notifications">
      <h1>Notifications</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status{' '}
          <select
            name="status"
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value)
              setCursors([])
            }}
          >
            <option value="">any</option>
            {NOTIFICATION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span class="count">{d ? (d.total === 0 ? 'none' : `${first + 1}–${first + d.notifications.length} of ${d.total}`) : 'loading…'}</span>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
        <Pager cursors={cursors} next={d?.next} onCursors={setCursors} />
      </form>
      {page.error && <p class="error">{page.error}</p>}
      {d?.total === 0 && cursors.length === 0 && !status && <p class="dim">Nothing has been sent. Alerts go out once a [[route]] or a unit's notify names a notifier (see the README's Notifications).</p>}
      <table class="runs">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Message</th>
            <th scope="col">Unit</th>
            <th scope="col">Notifier</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
          </tr>
        </thead>
        <tbody>
          {d?.notifications.map((n) => {
            const at = Date.parse(n.created_at)
            return (
              <tr key={n.id}>
                <td title={zonedTime(at)}>{formatRelative(at, now)}</td>
                <th scope="row">
                  {n.run_id ? <a href={runPath(n.run_id)}>{n.title}</a> : n.title} <span class="dim">{n.event}</span>
                </th>
                <td>{n.task ? <a href={unitPath(n.task)}>{n.task}</a> : '—'}</td>
                <td>
                  {n.notifier} <span class="dim">{n.route}</span>
                </td>
                <td>
                  <span class={`badge ${STATUS_CLASS[n.status]}`}>{n.status}</span>
                  {n.last_error && <div class="dim small">{n.last_error}</div>}
                </td>
                <td>{n.attempts}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </section>
  )
}
