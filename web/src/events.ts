import {useEffect, useRef} from 'preact/hooks'
import type {Run} from './types.js'

/** GET /api/events, one connection for the whole page: run.* carry the run, service.state `{name, status, instances}`. */
export type DaemonEvent = {readonly type: 'run.created' | 'run.started' | 'run.ended'; readonly run: Run} | {readonly type: 'service.state'; readonly name: string}

type Listener = (event: DaemonEvent) => void
const listeners = new Set<Listener>()
let source: EventSource | undefined

/** Opens the stream (after sign-in); EventSource reconnects by itself when the daemon restarts. */
export function openEvents(): void {
  if (source) return
  source = new EventSource('/api/events')
  for (const type of ['run.created', 'run.started', 'run.ended'] as const) {
    source.addEventListener(type, (e) => emit({type, run: JSON.parse((e as MessageEvent<string>).data) as Run}))
  }
  source.addEventListener('service.state', (e) => emit({type: 'service.state', name: (JSON.parse((e as MessageEvent<string>).data) as {name: string}).name}))
}

export function closeEvents(): void {
  source?.close()
  source = undefined
}

function emit(event: DaemonEvent): void {
  for (const fn of listeners) fn(event)
}

/** The unit an event is about. */
export function eventUnit(event: DaemonEvent): string {
  return event.type === 'service.state' ? event.name : event.run.task_name
}

/** Calls the latest `fn` for every event while the component is mounted. */
export function useEvents(fn: Listener): void {
  const latest = useRef(fn)
  latest.current = fn
  useEffect(() => {
    const listener: Listener = (event) => latest.current(event)
    listeners.add(listener)
    return () => void listeners.delete(listener)
  }, [])
}

/**
 * Runs `fn` at most once per `ms`, with everything asked meanwhile: live updates under a
 * burst of events (a thousand cron tasks firing on the minute) cost one request, not one each.
 */
export function batcher<T>(ms: number, fn: (items: Set<T>) => void): (item: T) => void {
  let pending = new Set<T>()
  let timer: ReturnType<typeof setTimeout> | undefined
  return (item) => {
    pending.add(item)
    if (timer) return
    timer = setTimeout(() => {
      const items = pending
      pending = new Set()
      timer = undefined
      fn(items)
    }, ms)
  }
}
