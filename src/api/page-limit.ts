import {HttpProblem} from './problem.js'

const MAX_LIMIT = 1000
const DEFAULT_LIMIT = 50

/** `?limit=` of a paged list (/api/runs, /api/notifications): 1..1000, 50 when absent; else 400. */
export function pageLimit(query: URLSearchParams): number {
  const text = query.get('limit')
  const limit = text === null ? DEFAULT_LIMIT : Number(text)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new HttpProblem(400, `limit must be an integer from 1 to ${MAX_LIMIT}`, [{location: 'query.limit', message: 'out of range', value: text}])
  }
  return limit
}
