import {matchesGlob} from '../core/glob.js'
import type {NotifyEvent, RouteConfig} from '../core/notify.js'

/** What a notification is about, as far as routing cares. */
export interface Subject {
  readonly event: NotifyEvent
  /** The unit it is about; undefined for daemon-wide events (disk.full). */
  readonly task?: string
  readonly group?: string
  /** A delivery failure is never reported to the notifier that failed. */
  readonly notFor?: string
}

export interface Target {
  readonly notifier: string
  readonly route: RouteConfig
}

/**
 * Event → notifiers (SPEC §14), pure. A route matches when it lists the event and its filters
 * hold: `tasks` and `groups` globs (each, when given, must match) and the exact `units` of a
 * `notify` shortcut. A route that filters by unit never matches a daemon-wide event. Each
 * notifier hears of an event once, through the first route (in file order, then the units'
 * shortcuts) that names it: that route's coalesce window applies.
 */
export function routeEvent(routes: readonly RouteConfig[], subject: Subject): Target[] {
  const out: Target[] = []
  const seen = new Set<string>()
  for (const route of routes) {
    if (!matches(route, subject)) continue
    for (const notifier of route.notifiers) {
      if (seen.has(notifier) || notifier === subject.notFor) continue
      seen.add(notifier)
      out.push({notifier, route})
    }
  }
  return out
}

function matches(route: RouteConfig, s: Subject): boolean {
  if (!route.events.includes(s.event)) return false
  const filtered = route.tasks.length > 0 || route.groups.length > 0 || route.units.length > 0
  if (!filtered) return true
  if (s.task === undefined) return false
  if (route.units.length > 0 && !route.units.includes(s.task)) return false
  if (route.tasks.length > 0 && !route.tasks.some((g) => matchesGlob(g, s.task!))) return false
  if (route.groups.length > 0 && !route.groups.some((g) => matchesGlob(g, s.group ?? ''))) return false
  return true
}

/** Whether any route could send `event` about anything: the engine skips work nobody listens to. */
export function anyRouteFor(routes: readonly RouteConfig[], event: NotifyEvent): boolean {
  return routes.some((r) => r.events.includes(event))
}
