/**
 * How long a 429 (or 503) answer asks us to wait, in ms: the `Retry-After` header (seconds or an
 * HTTP date), else a `retry_after` in a JSON body (Discord: seconds at the top; Telegram:
 * `parameters.retry_after`). Undefined when the answer does not say.
 */
export function retryAfterMs(header: string | null, body: string, now: number): number | undefined {
  if (header !== null && header.trim() !== '') {
    const text = header.trim()
    if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000)
    const at = Date.parse(text)
    if (!Number.isNaN(at)) return Math.max(0, at - now)
  }
  try {
    const json = JSON.parse(body) as {retry_after?: unknown; parameters?: {retry_after?: unknown}}
    const seconds = typeof json.retry_after === 'number' ? json.retry_after : json.parameters?.retry_after
    if (typeof seconds === 'number' && seconds >= 0) return Math.ceil(seconds * 1000)
  } catch {
    // not JSON: the answer does not say
  }
  return undefined
}
