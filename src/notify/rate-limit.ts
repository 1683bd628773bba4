const WINDOW_MS = 60_000

/**
 * A notifier's rate limit: at most `perMinute` sends in any 60 s. Returns when the next send may
 * go, given the times of earlier sends (oldest first); `sent` is trimmed of what the window no
 * longer needs.
 */
export function nextSlot(sent: number[], now: number, perMinute: number): number {
  while (sent.length > 0 && sent[0] <= now - WINDOW_MS) sent.shift()
  if (sent.length < perMinute) return now
  return sent[sent.length - perMinute] + WINDOW_MS
}
