import type {IncomingMessage, ServerResponse} from 'node:http'
import {checkName} from '../config/units.js'
import {ULID_PATTERN} from '../core/ulid.js'
import {HttpProblem} from './problem.js'

export interface ApiRequest {
  readonly raw: IncomingMessage
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** The parsed JSON body (at most 1 MiB); undefined when there is none. */
  body(): Promise<unknown>
}

export type Handler = (req: ApiRequest, res: ServerResponse) => void | Promise<void>

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** Segments; `:name` is a unit name, `:id` a run id. */
  readonly path: string
  readonly auth: boolean
  readonly handler: Handler
}

/**
 * Path parameters are checked against the same patterns the config and the run ids obey, so a
 * value like `..%2F..%2Fetc` is a 404 here and never reaches the filesystem.
 */
const PARAM_CHECKS: Record<string, (value: string) => boolean> = {
  name: (value) => checkName(value) === undefined,
  id: (value) => ULID_PATTERN.test(value),
}

export interface Match {
  readonly route: Route
  readonly params: Record<string, string>
}

export type RouteResult = {readonly type: 'match'; readonly match: Match} | {readonly type: 'method'; readonly allow: string[]} | {readonly type: 'none'}

export class Router {
  private readonly compiled: {route: Route; segments: string[]}[]

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({route, segments: route.path.split('/').filter(Boolean)}))
  }

  find(method: string, pathname: string): RouteResult {
    const parts = pathname.split('/').filter(Boolean)
    const allow: string[] = []
    for (const {route, segments} of this.compiled) {
      const params = matchSegments(segments, parts)
      if (!params) continue
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return {type: 'match', match: {route, params}}
      allow.push(route.method)
    }
    return allow.length ? {type: 'method', allow} : {type: 'none'}
  }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]
    if (seg.startsWith(':')) {
      let value: string
      try {
        value = decodeURIComponent(parts[i])
      } catch {
        return undefined
      }
      const check = PARAM_CHECKS[seg.slice(1)]
      if (check && !check(value)) throw new HttpProblem(404, `no ${seg.slice(1) === 'id' ? 'run' : 'task'} "${value}"`)
      params[seg.slice(1)] = value
    } else if (seg !== parts[i]) {
      return undefined
    }
  }
  return params
}
