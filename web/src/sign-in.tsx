import {useState} from 'preact/hooks'
import {ApiError, api, errorText} from './api.js'

/**
 * Takes a credential out of the address bar at once: `#signin=<one-time ticket>` (the link
 * `sched serve` and `sched status` print) or `#token=<API token>`. A fragment never reaches a
 * server, and after replaceState it is not in the history either.
 */
export function takeCredentialFromHash(): {ticket: string} | {token: string} | undefined {
  const m = /^#(signin|token)=([^&]+)/.exec(location.hash)
  if (!m) return undefined
  history.replaceState(null, '', location.pathname + location.search)
  const value = decodeURIComponent(m[2])
  return m[1] === 'signin' ? {ticket: value} : {token: value}
}

export async function signIn(credential: {ticket: string} | {token: string}): Promise<void> {
  await api('POST', '/api/session', credential)
}

export function SignIn(props: {readonly message?: string; readonly onSignedIn: () => void}) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | undefined>(props.message)
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    try {
      await signIn({token: token.trim()})
      props.onSignedIn()
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That is not the API token of this daemon.' : errorText(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="sign-in">
      <h1>sched</h1>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken(e.currentTarget.value)} autoFocus />
        <p class="hint">
          It is in the file <code>sched status</code> names (<code>STATE/api-token</code>) or in <code>$SCHED_API_TOKEN</code>. Or open the one-time link
          that <code>sched status</code> prints.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  )
}
