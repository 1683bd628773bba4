/** What one delivery attempt came to, whatever the transport. */
export interface SendResult {
  readonly ok: boolean
  /** The HTTP status or the SMTP reply code, when the remote answered. */
  readonly status?: number
  /** The remote's answer, cut short: an HTTP body, an SMTP reply line. */
  readonly response: string
  /** Why it failed, in words. */
  readonly error?: string
  /** Trying again will not help (the remote refused the message or the settings are wrong). */
  readonly permanent: boolean
  /** The remote asked to wait this long before the next request (HTTP 429). */
  readonly retryAfterMs?: number
}

export const RESPONSE_MAX = 300

/** Every credential of the notifier replaced by [redacted]: error texts can quote URLs and replies. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]')
  return out
}
