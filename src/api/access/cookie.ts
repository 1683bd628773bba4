/**
 * The dashboard's session cookie. Cookies are not scoped by port, so two daemons on one host
 * would overwrite each other's `sched_session`: the name carries the daemon's port.
 */
export function cookieName(port: number): string {
  return `sched_session_${port}`
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * HttpOnly: page scripts never see it. SameSite=Strict: no other site's page makes the browser
 * send it. No Max-Age: it ends with the browser session, and the daemon forgets it sooner when
 * idle. Secure only when the request came over TLS (a plain-HTTP localhost would drop it).
 */
export function sessionCookie(name: string, value: string, secure: boolean): string {
  return `${name}=${value}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`
}

export function clearedCookie(name: string, secure: boolean): string {
  return `${name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`
}
