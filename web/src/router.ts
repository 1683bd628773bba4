import {useEffect, useState} from 'preact/hooks'

/** The dashboard's pages, by URL (the daemon answers index.html for each of these paths). */
export type Page =
  | {readonly page: 'overview'}
  | {readonly page: 'unit'; readonly name: string}
  | {readonly page: 'run'; readonly id: string}
  | {readonly page: 'daemon'}
  | {readonly page: 'notifications'}
  | {readonly page: 'missing'; readonly path: string}

export function parsePath(pathname: string): Page {
  if (pathname === '/' || pathname === '') return {page: 'overview'}
  if (pathname === '/daemon') return {page: 'daemon'}
  if (pathname === '/notifications') return {page: 'notifications'}
  const m = /^\/(tasks|runs)\/([^/]+)$/.exec(pathname)
  if (m) {
    let value: string
    try {
      value = decodeURIComponent(m[2])
    } catch {
      return {page: 'missing', path: pathname}
    }
    return m[1] === 'tasks' ? {page: 'unit', name: value} : {page: 'run', id: value}
  }
  return {page: 'missing', path: pathname}
}

export const unitPath = (name: string) => `/tasks/${encodeURIComponent(name)}`
export const runPath = (id: string) => `/runs/${id}`

const CHANGE = 'sched:navigate'

/** Goes to `href` inside the page (History API); `replace` for state such as filters. */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href)
  else history.pushState(null, '', href)
  dispatchEvent(new Event(CHANGE))
}

/** The current location; re-renders on back/forward and on navigate(). */
export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(location.href))
  useEffect(() => {
    const update = () => setUrl(new URL(location.href))
    addEventListener('popstate', update)
    addEventListener(CHANGE, update)
    return () => {
      removeEventListener('popstate', update)
      removeEventListener(CHANGE, update)
    }
  }, [])
  return url
}

/**
 * Plain links stay plain `<a href>` (keyboard, middle-click, copy link all work); a left click
 * without modifiers on a same-origin link is handled here instead of reloading the page.
 */
export function interceptLinks(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const a = (event.target as Element | null)?.closest?.('a')
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin || a.pathname.startsWith('/api/')) return
    event.preventDefault()
    if (a.href !== location.href) navigate(a.pathname + a.search)
  })
}
