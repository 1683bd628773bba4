import {useMemo, useState} from 'preact/hooks'
import {ApiError, errorText, get, post} from '../api.js'
import {batcher, eventUnit, useEvents} from '../events.js'
import {formatRelative, zonedTime} from '../format.js'
import {useNow, useResource} from '../hooks.js'
import {UnitStatus} from '../parts/badges.js'
import {ConfigTable} from '../parts/config-table.js'
import {DurationChart} from '../parts/duration-chart.js'
import {History, type HistoryQuery, historyUrl} from '../parts/history.js'
import {TriggerForm} from '../parts/trigger-form.js'
import {scheduleInWords} from '../schedule-words.js'
import type {Run, TaskObject, UnitState, UpcomingTick} from '../types.js'

const CHART_RUNS = 100

type Unit = TaskObject & {readonly state: UnitState}
type ControlResult = {action: string; runs?: string[]; state?: UnitState}

/** A task or service: state, actions, next ticks, duration chart, history, effective config. */
export function UnitPage(props: {readonly name: string; readonly url: URL}) {
  const path = `/api/tasks/${encodeURIComponent(props.name)}`
  const unit = useResource(() => get<Unit>(path), [props.name])
  const [query, setQuery] = useState<HistoryQuery>({status: '', triggered_by: '', cursors: []})
  const history = useResource(() => get<{runs: Run[]; total: number; next: string | null}>(historyUrl(props.name, query)), [props.name, query])
  const chart = useResource(() => get<{runs: Run[]}>(`/api/runs?task_name=${encodeURIComponent(props.name)}&status=ended&limit=${CHART_RUNS}`), [props.name])
  const hasCron = Boolean(unit.data?.cron)
  const ticks = useResource(() => (hasCron ? get<UpcomingTick[]>(`${path}/next?count=5`) : Promise.resolve([])), [props.name, hasCron, unit.data?.next_run_at])
  const now = useNow(10_000)

  const refresh = useMemo(
    () =>
      batcher<string>(400, () => {
        unit.reload()
        history.reload()
        chart.reload()
      }),
    [],
  )
  useEvents((event) => {
    if (eventUnit(event) === props.name) refresh(props.name)
  })

  if (unit.error && !unit.data) return <p class="error">{unit.error}</p>
  const u = unit.data
  if (!u) return <p>Loading {props.name}…</p>
  const next = u.next_run_at ? Date.parse(u.next_run_at) : undefined

  return (
    <section class="unit">
      <p class="crumbs">
        <a href="/">Overview</a> › {u.group || 'no group'}
      </p>
      <h1>
        {u.name} <span class="dim small">{u.kind}</span> <UnitStatus kind={u.kind} state={u.state} />
      </h1>
      {u.description && <p>{u.description}</p>}
      <dl class="facts">
        {u.kind === 'task' ? (
          <>
            <dt>Schedule</dt>
            <dd>
              {scheduleInWords(u.cron)} {u.cron && <code class="cron">{u.cron}</code>} {u.cron && !u.cron.startsWith('@every') && <span class="dim">({u.timezone})</span>}
            </dd>
            <dt>Next run</dt>
            <dd>{next !== undefined ? `${formatRelative(next, now)} · ${zonedTime(next, u.timezone)}` : '—'}</dd>
            <dt>Now</dt>
            <dd>
              {u.state.active_runs} running, {u.state.queued} queued
            </dd>
          </>
        ) : (
          <>
            <dt>Instances</dt>
            <dd>
              <ul class="instances">
                {u.state.instances.map((i) => (
                  <li key={i.index}>
                    #{i.index} <span class="badge neutral">{i.status}</span> {i.pid !== null && `pid ${i.pid}`} {i.run_id && <a href={`/runs/${i.run_id}`}>run</a>} {i.restarts > 0 && `· ${i.restarts} restarts`}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
      </dl>

      <h2>Actions</h2>
      {u.api_trigger ? (
        <Actions unit={u} onDone={refresh} />
      ) : (
        <p class="dim">api_trigger = false: this {u.kind} cannot be triggered, stopped or started by hand.</p>
      )}

      {hasCron && (
        <>
          <h2>Next 5 ticks</h2>
          {ticks.error ? (
            <p class="error">{ticks.error}</p>
          ) : (
            <ol class="ticks">
              {ticks.data?.map((t) => (
                <li key={t.at} class={t.kind === 'dst_skipped' ? 'dim' : undefined}>
                  {t.local} <span class="dim">{t.zone ?? 'UTC'}</span> {t.note && <span class="badge warn">{t.note}</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}

      <h2>Durations</h2>
      {chart.data ? <DurationChart runs={chart.data.runs} /> : <p>{chart.error ?? 'Loading…'}</p>}

      <h2>History</h2>
      {history.error && <p class="error">{history.error}</p>}
      <History page={history.data} query={query} onQuery={setQuery} now={now} />

      <h2>Effective configuration</h2>
      <ConfigTable task={u} />
    </section>
  )
}

function Actions(props: {readonly unit: Unit; readonly onDone: (name: string) => void}) {
  const {unit} = props
  const [message, setMessage] = useState<{kind: 'ok' | 'error'; text: string}>()
  const [busy, setBusy] = useState(false)
  const act = async (action: 'stop' | 'start' | 'restart') => {
    if (action !== 'start' && !confirm(`${action === 'stop' ? 'Stop' : 'Restart'} ${unit.kind} ${unit.name}?`)) return
    setBusy(true)
    setMessage(undefined)
    try {
      const r = await post<ControlResult>(`/api/tasks/${encodeURIComponent(unit.name)}/${action}`)
      setMessage({kind: 'ok', text: describe(unit, r)})
      props.onDone(unit.name)
    } catch (error) {
      setMessage({kind: 'error', text: error instanceof ApiError ? `Refused: ${error.message}` : errorText(error)})
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="actions">
      {unit.kind === 'task' && <TriggerForm task={unit.name} params={unit.parameters} onTriggered={() => props.onDone(unit.name)} />}
      <div class="buttons">
        {unit.kind === 'service' && (
          <>
            <button type="button" disabled={busy} onClick={() => act('start')}>
              Start
            </button>
            <button type="button" disabled={busy} onClick={() => act('restart')}>
              Restart
            </button>
          </>
        )}
        <button type="button" class="danger" disabled={busy} onClick={() => act('stop')}>
          {unit.kind === 'task' ? 'Stop every run' : 'Stop'}
        </button>
        <span class={`result ${message?.kind ?? ''}`} role="status" aria-live="polite">
          {message?.text}
        </span>
      </div>
    </div>
  )
}

/** What a stop/start/restart did, in words. */
function describe(unit: Unit, r: ControlResult): string {
  const runs = r.runs?.length ?? 0
  switch (r.action) {
    case 'stopped':
      return unit.kind === 'service' ? `Stopped ${unit.name}; it stays stopped until started again.` : `Stopped ${runs} run${runs === 1 ? '' : 's'} of ${unit.name}.`
    case 'nothing_running':
      return `${unit.name} had no run to stop.`
    case 'started':
      return `Started ${unit.name}.`
    case 'already_running':
      return `${unit.name} was already running.`
    case 'restarted':
      return `Restarted every instance of ${unit.name}.`
    default:
      return r.action
  }
}
