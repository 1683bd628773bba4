import {useState} from 'preact/hooks'
import {ApiError, errorText, get, post} from '../api.js'
import {useEvents} from '../events.js'
import {END_REASON_WORDS, durationMs, formatRelative, zonedTime} from '../format.js'
import {useNow, useResource} from '../hooks.js'
import {Outcome} from '../parts/badges.js'
import {LogView} from '../parts/log-view.js'
import {runPath, unitPath} from '../router.js'
import type {Run} from '../types.js'

/** One run: its record, its retries, and its log (live while it runs). */
export function RunPage(props: {readonly id: string}) {
  const run = useResource(() => get<Run>(`/api/runs/${props.id}`), [props.id])
  const [live, setLive] = useState<Run>()
  useNow(5_000)
  const now = Date.now()
  useEvents((event) => {
    if (event.type !== 'service.state' && event.run.id === props.id) setLive(event.run)
  })
  // A retry of this run, if it has one among its task's newest runs.
  const r = live && run.data && live.id === run.data.id && live !== run.data ? newer(live, run.data) : run.data
  const retries = useResource(
    () => (r && r.status === 'ended' ? get<{runs: Run[]}>(`/api/runs?task_name=${encodeURIComponent(r.task_name)}&limit=100`) : Promise.resolve({runs: []})),
    [r?.task_name, r?.status],
  )
  if (run.error && !run.data) return <p class="error">{run.error}</p>
  if (!r) return <p>Loading run {props.id}…</p>
  const retriedAs = retries.data?.runs.find((x) => x.retry_of_run_id === r.id)
  const times: [string, string | null][] = [
    ['scheduled', r.scheduled_at],
    ['created', r.created_at],
    ['started', r.started_at],
    ['ended', r.ended_at],
  ]
  const params = Object.entries(r.params)
  return (
    <section class="run">
      <p class="crumbs">
        <a href="/">Overview</a> › <a href={unitPath(r.task_name)}>{r.task_name}</a> › run
      </p>
      <h1>
        Run <code>{r.id}</code> <Outcome run={r} />
      </h1>
      <dl class="facts">
        <dt>Unit</dt>
        <dd>
          <a href={unitPath(r.task_name)}>{r.task_name}</a> ({r.kind}
          {r.instance_index !== null && `, instance #${r.instance_index}`})
        </dd>
        <dt>Status</dt>
        <dd>
          {r.status}
          {r.end_reason && ` · ${END_REASON_WORDS[r.end_reason]}`}
        </dd>
        <dt>Exit</dt>
        <dd>{r.signal ? `killed by ${r.signal}` : r.exit_code !== null ? `exit code ${r.exit_code}` : '—'}</dd>
        <dt>Triggered by</dt>
        <dd>{r.triggered_by}</dd>
        {times.map(([label, at]) =>
          at ? (
            <>
              <dt key={label}>{label[0].toUpperCase() + label.slice(1)}</dt>
              <dd key={`${label}-v`}>
                {zonedTime(Date.parse(at))} <span class="dim">({formatRelative(Date.parse(at), now)})</span>
              </dd>
            </>
          ) : null,
        )}
        <dt>Duration</dt>
        <dd>{r.duration_ms !== null ? durationMs(r.duration_ms) : r.started_at ? `running for ${durationMs(now - Date.parse(r.started_at))}` : '—'}</dd>
        <dt>Attempt</dt>
        <dd>
          {r.retry_attempt + 1}
          {r.retry_of_run_id && (
            <>
              {' '}
              · retry of <a href={runPath(r.retry_of_run_id)}>{r.retry_of_run_id}</a>
            </>
          )}
          {retriedAs && (
            <>
              {' '}
              · retried as <a href={runPath(retriedAs.id)}>{retriedAs.id}</a>
            </>
          )}
        </dd>
        {r.pid !== null && (
          <>
            <dt>PID</dt>
            <dd>{r.pid}</dd>
          </>
        )}
        {r.message && (
          <>
            <dt>Message</dt>
            <dd>{r.message}</dd>
          </>
        )}
        <dt>Parameters</dt>
        <dd>
          {params.length === 0 ? (
            <span class="dim">none</span>
          ) : (
            <table class="params">
              <tbody>
                {params.map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">
                      <code>{k}</code>
                    </th>
                    <td>
                      <code>{v}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div class="dim small">Values from secrets_file are never part of a run's record.</div>
        </dd>
      </dl>
      {r.status !== 'ended' && <StopRun id={r.id} />}
      <h2>Log</h2>
      <LogView key={r.id} run={r} onDone={run.reload} />
    </section>
  )
}

/** The event's copy wins unless the loaded record is further along (events can race the first load). */
function newer(a: Run, b: Run): Run {
  const rank = (x: Run) => ({pending: 0, running: 1, ended: 2})[x.status]
  return rank(a) >= rank(b) ? a : b
}

function StopRun(props: {readonly id: string}) {
  const [message, setMessage] = useState<string>()
  const stop = async () => {
    try {
      await post(`/api/runs/${props.id}/stop`)
      setMessage('Stopped.')
    } catch (error) {
      setMessage(error instanceof ApiError ? `Refused: ${error.message}` : errorText(error))
    }
  }
  return (
    <p class="buttons">
      <button type="button" class="danger" onClick={stop}>
        Stop this run
      </button>{' '}
      <span role="status">{message}</span>
    </p>
  )
}
