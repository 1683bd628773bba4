import {useState} from 'preact/hooks'
import {ApiError, errorText, get, post} from '../api.js'
import {durationMs, zonedTime} from '../format.js'
import {useNow, useResource} from '../hooks.js'
import type {DaemonInfo, ProblemDetail} from '../types.js'

type Reload = {kind: 'ok'; added: string[]; removed: string[]; changed: string[]} | {kind: 'error'; message: string; errors: readonly ProblemDetail[]}

/** The daemon itself: what it runs, from where, whether the file on disk changed, and reload. */
export function DaemonPage() {
  const info = useResource(() => get<DaemonInfo>('/api/daemon'), [])
  const [reload, setReload] = useState<Reload>()
  const [busy, setBusy] = useState(false)
  const now = useNow(1000)
  const doReload = async () => {
    setBusy(true)
    setReload(undefined)
    try {
      const r = await post<{added: string[]; removed: string[]; changed: string[]}>('/api/daemon/reload')
      setReload({kind: 'ok', ...r})
    } catch (error) {
      setReload(error instanceof ApiError ? {kind: 'error', message: error.message, errors: error.errors} : {kind: 'error', message: errorText(error), errors: []})
    } finally {
      setBusy(false)
      info.reload()
    }
  }
  const d = info.data
  if (!d) return <p>{info.error ?? 'Loading…'}</p>
  return (
    <section class="daemon">
      <h1>Daemon</h1>
      <dl class="facts">
        <dt>Version</dt>
        <dd>{d.version}</dd>
        <dt>PID</dt>
        <dd>{d.pid}</dd>
        <dt>Up</dt>
        <dd>
          {durationMs(Math.max(0, Math.floor((now - Date.parse(d.started_at)) / 1000) * 1000))} <span class="dim">(since {zonedTime(Date.parse(d.started_at))})</span>
        </dd>
        <dt>Config</dt>
        <dd>
          <code>{d.config_path}</code>{' '}
          {d.config_stale ? <span class="badge warn">changed on disk since it was loaded</span> : <span class="badge ok">as loaded</span>}
        </dd>
        <dt>State directory</dt>
        <dd>
          <code>{d.state_dir}</code>
        </dd>
        <dt>Time zone</dt>
        <dd>{d.timezone}</dd>
      </dl>
      <p class="buttons">
        <button type="button" disabled={busy} onClick={doReload}>
          Reload the config
        </button>
      </p>
      <div role="status" aria-live="polite">
        {reload?.kind === 'ok' && (
          <div class="result ok">
            <p>Reloaded.{reload.added.length + reload.removed.length + reload.changed.length === 0 && ' Nothing changed.'}</p>
            <ReloadList label="Added" names={reload.added} />
            <ReloadList label="Changed" names={reload.changed} />
            <ReloadList label="Removed" names={reload.removed} />
          </div>
        )}
        {reload?.kind === 'error' && (
          <div class="result error">
            <p>Not reloaded: {reload.message}</p>
            {reload.errors.length > 0 && (
              <ul class="config-errors">
                {reload.errors.map((e, i) => (
                  <li key={i}>
                    <code>{e.location?.replace(/^config\.?/, '') || '(file)'}</code> {e.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
    </section>
  )
}

function ReloadList(props: {readonly label: string; readonly names: readonly string[]}) {
  if (props.names.length === 0) return null
  return (
    <p>
      {props.label}: {props.names.map((n, i) => [i > 0 && ', ', <a key={n} href={`/tasks/${encodeURIComponent(n)}`}>{n}</a>])}
    </p>
  )
}
