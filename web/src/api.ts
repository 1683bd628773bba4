/** The dashboard's only way to the daemon: the same HTTP API as every client, with the session cookie. */

export interface ProblemDetail {
  readonly location?: string
  readonly message: string
  readonly value?: unknown
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: readonly ProblemDetail[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

const signedOutListeners = new Set<() => void>()

/** Called whenever the daemon answers 401: the session ended (sign-out, expiry, daemon restart). */
export function onSignedOut(fn: () => void): () => void {
  signedOutListeners.add(fn)
  return () => signedOutListeners.delete(fn)
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {accept: 'application/json'} : {accept: 'application/json', 'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  })
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!res.ok) {
    const problem = (parsed ?? {}) as {detail?: string; errors?: ProblemDetail[]}
    if (res.status === 401 && path !== '/api/session') for (const fn of signedOutListeners) fn()
    throw new ApiError(res.status, problem.detail ?? `${res.status} ${res.statusText}`, problem.errors ?? [], (parsed ?? {}) as Record<string, unknown>)
  }
  return parsed as T
}

export const get = <T>(path: string) => api<T>('GET', path)
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body)

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
