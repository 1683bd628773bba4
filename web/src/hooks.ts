import {useCallback, useEffect, useRef, useState} from 'preact/hooks'
import {errorText} from './api.js'

export interface Resource<T> {
  readonly data?: T
  readonly error?: string
  /** Loads again, keeping what is shown until the answer comes. */
  reload(): void
}

/** Data from the API for a component: loaded on mount and when `deps` change; late answers are dropped. */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{data?: T; error?: string}>({})
  const generation = useRef(0)
  const latest = useRef(load)
  latest.current = load
  const reload = useCallback(() => {
    const mine = ++generation.current
    latest.current().then(
      (data) => mine === generation.current && setState({data}),
      (error) => mine === generation.current && setState((s) => ({data: s.data, error: errorText(error)})),
    )
  }, [])
  useEffect(reload, deps)
  return {...state, reload}
}

/** The time, refreshed every `ms`, for relative times ("in 5m") on a page. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(t)
  }, [ms])
  return now
}
