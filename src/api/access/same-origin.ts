/**
 * The CSRF check for requests authenticated by the session cookie (SPEC §11): a mutating
 * request must come from the dashboard's own origin. Browsers send `Origin` on every POST and
 * DELETE from fetch (the dashboard serves `Referrer-Policy: same-origin`, which keeps it — under
 * `no-referrer` a same-origin POST would say `Origin: null`); `Referer` is the fallback for
 * the rare agent that sends only that. Neither, or `null`, is refused: a request that cannot
 * say where it comes from does not get to use the cookie.
 */
export function sameOrigin(headers: {readonly origin?: string; readonly referer?: string; readonly host?: string}, secure: boolean): boolean {
  if (!headers.host) return false
  const expected = `${secure ? 'https' : 'http'}://${headers.host}`.toLowerCase()
  if (headers.origin !== undefined) return headers.origin.toLowerCase() === expected
  if (headers.referer === undefined) return false
  try {
    return new URL(headers.referer).origin.toLowerCase() === expected
  } catch {
    return false
  }
}

/** Methods that change nothing: they need no CSRF check. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS'
}
