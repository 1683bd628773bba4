import {useEffect, useState} from 'preact/hooks'
import {api, errorText, get, onSignedOut} from './api.js'
import {closeEvents, openEvents} from './events.js'
import {DaemonPage} from './pages/daemon.js'
import {NotificationsPage} from './pages/notifications.js'
import {OverviewPage} from './pages/overview.js'
import {RunPage} from './pages/run.js'
import {UnitPage} from './pages/unit.js'
import {parsePath, useLocation} from './router.js'
import {SignIn, signIn, takeCredentialFromHash} from './sign-in.js'

type Auth = {readonly state: 'checking'} | {readonly state: 'out'; readonly message?: string} | {readonly state: 'in'}

export function App() {
  const [auth, setAuth] = useState<Auth>({state: 'checking'})
  const url = useLocation()

  useEffect(() => {
    const credential = takeCredentialFromHash()
    const check = credential ? signIn(credential) : get('/api/daemon')
    check.then(
      () => setAuth({state: 'in'}),
      (error) => setAuth({state: 'out', message: credential ? `The sign-in link did not work: ${errorText(error)}` : undefined}),
    )
    return onSignedOut(() => setAuth({state: 'out', message: 'Your session ended (signed out, expired, or the daemon restarted). Sign in again.'}))
  }, [])

  useEffect(() => {
    if (auth.state !== 'in') return
    openEvents()
    return closeEvents
  }, [auth.state])

  if (auth.state === 'checking') return <p class="boot">Loading sched…</p>
  if (auth.state === 'out') return <SignIn message={auth.message} onSignedIn={() => setAuth({state: 'in'})} />

  const page = parsePath(url.pathname)
  const signOut = async () => {
    try {
      await api('DELETE', '/api/session')
    } finally {
      setAuth({state: 'out', message: 'Signed out.'})
    }
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          sched
        </a>
        <nav aria-label="Pages">
          <a href="/" aria-current={page.page === 'overview' ? 'page' : undefined}>
            Overview
          </a>
          <a href="/notifications" aria-current={page.page === 'notifications' ? 'page' : undefined}>
            Notifications
          </a>
          <a href="/daemon" aria-current={page.page === 'daemon' ? 'page' : undefined}>
            Daemon
          </a>
        </nav>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page.page === 'overview' && <OverviewPage url={url} />}
        {page.page === 'unit' && <UnitPage key={page.name} name={page.name} url={url} />}
        {page.page === 'run' && <RunPage key={page.id} id={page.id} />}
        {page.page === 'daemon' && <DaemonPage />}
        {page.page === 'notifications' && <NotificationsPage />}
        {page.page === 'missing' && (
          <p>
            No page at <code>{page.path}</code>. <a href="/">Back to the overview</a>.
          </p>
        )}
      </main>
    </>
  )
}
