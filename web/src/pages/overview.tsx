import {Component} from 'preact'
import {useEffect, useMemo, useRef, useState} from 'preact/hooks'
import {get} from '../api.js'
import {batcher, eventUnit, useEvents} from '../events.js'
import {STATE_FILTERS, groupUnits, matchesFilter} from '../filter.js'
import {durationMs, formatRelative, zonedTime} from '../format.js'
import {useNow, useResource} from '../hooks.js'
import {Outcome, UnitStatus} from '../parts/badges.js'
import {RunStrip} from '../parts/strip.js'
import {navigate, runPath, unitPath} from '../router.js'
import {scheduleInWords} from '../schedule-words.js'
import type {TaskObject, UnitSummary} from '../types.js'
import {offsetsOf, rangeByOffsets} from '../virtual.js'

const STRIP = 20
/** Row heights are fixed (style.css), so only the rows near the viewport are in the page. */
const GROUP_ROW = 30
const UNIT_ROW = 60
const OVERSCAN_PX = 800

interface Row {
  readonly task: TaskObject
  readonly summary: UnitSummary | undefined
}

type Item = {readonly kind: 'group'; readonly group: string; readonly count: number} | {readonly kind: 'unit'; readonly row: Row}

/** Where the table's body is against the browser window, kept up to date as the page scrolls. */
function useWindowOver(body: {current: HTMLElement | null}, ready: boolean): {top: number; height: number} {
  const [view, setView] = useState({top: 0, height: typeof innerHeight === 'number' ? innerHeight : 900})
  useEffect(() => {
    let frame = 0
    const measure = () => {
      frame = 0
      const el = body.current
      if (!el) return
      const top = -el.getBoundingClientRect().top
      setView((v) => (v.top === top && v.height === innerHeight ? v : {top, height: innerHeight}))
    }
    const later = () => {
      if (!frame) frame = requestAnimationFrame(measure)
    }
    measure()
    addEventListener('scroll', later, {passive: true})
    addEventListener('resize', later)
    return () => {
      removeEventListener('scroll', later)
      removeEventListener('resize', later)
      if (frame) cancelAnimationFrame(frame)
    }
  }, [ready])
  return view
}

export function OverviewPage(props: {readonly url: URL}) {
  const tasks = useResource(() => get<TaskObject[]>('/api/tasks'), [])
  const [summaries, setSummaries] = useState<ReadonlyMap<string, UnitSummary>>(new Map())
  const [error, setError] = useState<string>()
  const now = useNow(10_000)
  const body = useRef<HTMLTableSectionElement>(null)
  const view = useWindowOver(body, tasks.data !== undefined)

  const merge = (units: readonly UnitSummary[]) =>
    setSummaries((old) => {
      const next = new Map(old)
      for (const u of units) next.set(u.name, u)
      return next
    })
  useEffect(() => {
    get<{units: UnitSummary[]}>(`/api/overview?runs=${STRIP}`).then((r) => merge(r.units), (e: Error) => setError(e.message))
  }, [])

  // Live: the units events touch are fetched again together, at most every 400 ms.
  const refresh = useMemo(
    () =>
      batcher<string>(400, (names) => {
        const q = [...names].map((n) => `name=${encodeURIComponent(n)}`).join('&')
        get<{units: UnitSummary[]}>(`/api/overview?runs=${STRIP}&${q}`).then((r) => merge(r.units), () => undefined)
      }),
    [],
  )
  useEvents((event) => refresh(eventUnit(event)))

  // next_run_at moves on when a tick passes: the list is asked for again then.
  const nextDue = useMemo(() => Math.min(...(tasks.data ?? []).map((t) => (t.next_run_at ? Date.parse(t.next_run_at) : Infinity))), [tasks.data])
  useEffect(() => {
    if (!Number.isFinite(nextDue)) return
    const t = setTimeout(tasks.reload, Math.max(1000, nextDue - Date.now() + 500))
    return () => clearTimeout(t)
  }, [nextDue])

  const params = props.url.searchParams
  const filter = {text: params.get('q') ?? '', group: params.get('group') ?? '', state: params.get('state') ?? ''}
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params)
    if (value) next.set(key, value)
    else next.delete(key)
    const qs = next.toString()
    navigate(`/${qs ? `?${qs}` : ''}`, true)
  }

  if (!tasks.data) return <p>{tasks.error ?? 'Loading units…'}</p>
  const rows: Row[] = tasks.data.map((task) => ({task, summary: summaries.get(task.name)}))
  const groups = [...new Set(tasks.data.map((t) => t.group))].sort()
  const shown = rows.filter((r) => matchesFilter({name: r.task.name, group: r.task.group, status: r.summary?.state.status ?? (r.task.kind === 'service' ? 'stopped' : 'idle'), lastEndReason: r.summary?.last_run?.end_reason ?? null}, filter))

  const items: Item[] = []
  for (const [group, members] of groupUnits(shown.map((r) => ({...r, group: r.task.group})))) {
    items.push({kind: 'group', group, count: members.length})
    for (const row of members) items.push({kind: 'unit', row})
  }
  const offsets = offsetsOf(items.map((i) => (i.kind === 'group' ? GROUP_ROW : UNIT_ROW)))
  const {start, end} = rangeByOffsets(offsets, view.top, view.height, OVERSCAN_PX)
  const top = offsets[start]
  const bottom = offsets[items.length] - offsets[end]

  return (
    <section class="overview">
      <h1>Overview</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Name <input type="search" name="q" value={filter.text} placeholder="filter by name" onInput={(e) => setFilter('q', e.currentTarget.value)} />
        </label>
        <label>
          Group{' '}
          <select name="group" value={filter.group} onChange={(e) => setFilter('group', e.currentTarget.value)}>
            <option value="">every group</option>
            {groups.map((g) => (
              <option key={g} value={g === '' ? '-' : g}>
                {g === '' ? '(no group)' : g}
              </option>
            ))}
          </select>
        </label>
        <label>
          State{' '}
          <select name="state" value={filter.state} onChange={(e) => setFilter('state', e.currentTarget.value)}>
            <option value="">any state</option>
            {STATE_FILTERS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span class="count" aria-live="polite">
          {shown.length} of {rows.length} units
        </span>
      </form>
      {error && <p class="error">{error}</p>}
      <table class="units">
        <thead>
          <tr>
            <th scope="col" class="c-name">Name</th>
            <th scope="col" class="c-kind">Kind</th>
            <th scope="col" class="c-sched">Schedule</th>
            <th scope="col" class="c-next">Next run</th>
            <th scope="col" class="c-last">Last run</th>
            <th scope="col" class="c-strip">Last {STRIP} runs</th>
            <th scope="col" class="c-state">State</th>
          </tr>
        </thead>
        <tbody ref={body}>
          {top > 0 && <Spacer height={top} />}
          {items.slice(start, end).map((item) =>
            item.kind === 'group' ? (
              <tr key={`group ${item.group}`} class="group-head">
                <th colSpan={7}>
                  {item.group || 'no group'} <span class="dim">({item.count})</span>
                </th>
              </tr>
            ) : (
              <UnitRow key={item.row.task.name} task={item.row.task} summary={item.row.summary} now={now} />
            ),
          )}
          {bottom > 0 && <Spacer height={bottom} />}
        </tbody>
      </table>
      {shown.length === 0 && <p>No unit matches.</p>}
    </section>
  )
}

function Spacer(props: {readonly height: number}) {
  return (
    <tr class="spacer" aria-hidden="true">
      <td colSpan={7} style={{height: `${props.height}px`}} />
    </tr>
  )
}

interface RowProps {
  readonly task: TaskObject
  readonly summary: UnitSummary | undefined
  readonly now: number
}

/** One unit; re-rendered only when its own data (or, for timed rows, the clock) changes. */
class UnitRow extends Component<RowProps> {
  shouldComponentUpdate(next: RowProps): boolean {
    return next.task !== this.props.task || next.summary !== this.props.summary || next.now !== this.props.now
  }

  render({task, summary, now}: RowProps) {
    const last = summary?.last_run
    const at = last ? Date.parse(last.started_at ?? last.created_at) : undefined
    const next = task.next_run_at ? Date.parse(task.next_run_at) : undefined
    return (
      <tr class="unit">
        <th scope="row">
          <a href={unitPath(task.name)}>{task.name}</a>
          {task.description && <div class="dim small">{task.description}</div>}
        </th>
        <td>{task.kind}</td>
        <td>
          {task.kind === 'service' ? (
            `${task.instances} instance${task.instances === 1 ? '' : 's'}`
          ) : (
            <>
              {scheduleInWords(task.cron)}
              {task.cron && <code class="cron">{task.cron}</code>}
            </>
          )}
        </td>
        <td>
          {next !== undefined ? (
            <>
              {formatRelative(next, now)}
              <div class="dim small">{zonedTime(next, task.timezone)}</div>
            </>
          ) : (
            <span class="dim">—</span>
          )}
        </td>
        <td>
          {last ? (
            <>
              <a href={runPath(last.id)}>
                <Outcome run={last} />
              </a>{' '}
              {last.duration_ms !== null && durationMs(last.duration_ms)}
              {at !== undefined && <div class="dim small">{formatRelative(at, now)}</div>}
            </>
          ) : (
            <span class="dim">never run</span>
          )}
        </td>
        <td>
          <RunStrip runs={summary?.recent_runs ?? []} size={STRIP} />
        </td>
        <td>
          <UnitStatus kind={task.kind} state={summary?.state} />
        </td>
      </tr>
    )
  }
}
