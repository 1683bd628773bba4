import {describe, expect, it} from 'vitest'
import {FAILURE_EVENTS, type RouteConfig} from '../../src/core/notify.js'
import {type Subject, routeEvent} from '../../src/notify/routes.js'

/** Event → notifiers, pure (SPEC §14 routes): filters, globs, order, one message per notifier. */

function route(name: string, over: Partial<RouteConfig>): RouteConfig {
  return {name, events: FAILURE_EVENTS, tasks: [], groups: [], units: [], notifiers: [], coalesce: 600e9, ...over}
}

const ROUTES: RouteConfig[] = [
  route('route[0]', {events: ['run.failed', 'run.recovered'], tasks: ['backup-*', 'db.?'], notifiers: ['slack']}),
  route('route[1]', {groups: ['ops*'], notifiers: ['pager', 'slack']}),
  route('route[2]', {events: ['disk.full', 'notify.delivery_failed', 'service.fatal'], notifiers: ['mail']}),
  route('tasks.report.notify', {units: ['report'], notifiers: ['mail', 'hook']}),
]

const targets = (s: Subject) => routeEvent(ROUTES, s).map((t) => `${t.notifier}<${t.route.name}`)

describe('routeEvent', () => {
  it.each<[string, Subject, string[]]>([
    ['a task glob with *', {event: 'run.failed', task: 'backup-db'}, ['slack<route[0]']],
    ['a task glob with ?', {event: 'run.failed', task: 'db.1'}, ['slack<route[0]']],
    ['a glob is anchored: no match for a longer name', {event: 'run.failed', task: 'db.10'}, []],
    ['an event the route does not list', {event: 'run.timeout', task: 'backup-db'}, []],
    ['recoveries only where named', {event: 'run.recovered', task: 'backup-db'}, ['slack<route[0]']],
    ['a group glob', {event: 'run.timeout', task: 'web', group: 'ops-east'}, ['pager<route[1]', 'slack<route[1]']],
    ['each notifier hears once, through the first route naming it', {event: 'run.failed', task: 'backup-x', group: 'ops'}, ['slack<route[0]', 'pager<route[1]']],
    ['a unit without a group does not match a group glob', {event: 'run.failed', task: 'web'}, []],
    ['a route without filters takes daemon-wide events', {event: 'disk.full'}, ['mail<route[2]']],
    ['a route with filters never takes a daemon-wide event', {event: 'run.failed'}, []],
    ['a unit shortcut matches its unit exactly', {event: 'run.failed', task: 'report'}, ['mail<tasks.report.notify', 'hook<tasks.report.notify']],
    ['a unit shortcut does not match another unit', {event: 'run.failed', task: 'reports'}, []],
    ['an unfiltered route for every unit', {event: 'service.fatal', task: 'web'}, ['mail<route[2]']],
    ['a delivery failure never goes back to the notifier that failed', {event: 'notify.delivery_failed', task: 'report', notFor: 'mail'}, ['hook<tasks.report.notify']],
  ])('%s', (_what, subject, expected) => {
    expect(targets(subject)).toEqual(expected)
  })

  it('no routes, no notifications', () => {
    expect(routeEvent([], {event: 'run.failed', task: 'x'})).toEqual([])
  })
})
