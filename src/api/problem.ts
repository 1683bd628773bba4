import {STATUS_CODES, type ServerResponse} from 'node:http'

/** One problem+json error detail, in the seed's shape. */
export interface ProblemDetail {
  readonly location?: string
  readonly message: string
  readonly value?: unknown
}

/** An HTTP error a handler throws; the server answers it as application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: readonly ProblemDetail[],
    readonly headers: Readonly<Record<string, string>> = {},
    /** Extra members, e.g. the run a refused trigger recorded. */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail)
  }
}

export function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  const body = JSON.stringify({
    title: STATUS_CODES[problem.status] ?? 'Error',
    status: problem.status,
    detail: problem.detail,
    ...(problem.errors ? {errors: problem.errors} : {}),
    type: 'about:blank',
    ...problem.extra,
  })
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(problem.status, {'content-type': 'application/problem+json', ...problem.headers})
  res.end(body)
}
