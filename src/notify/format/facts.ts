import type {Notice} from '../notice.js'

/** A labelled fact of a message ("Exit" → "code 2"), shared by every format. */
export type Fact = readonly [label: string, value: string]

/** The facts a person reads under the title, in a fixed order; absent ones are left out. */
export function factsOf(n: Notice): Fact[] {
  const out: Fact[] = []
  const add = (label: string, value: string | null | undefined) => {
    if (value) out.push([label, value])
  }
  add('Task', n.task)
  add('Event', n.event)
  add('End reason', n.end_reason)
  add('Exit', n.signal ? `signal ${n.signal}` : n.exit_code === null ? null : `code ${n.exit_code}`)
  add('Duration', n.duration_ms === null ? null : formatMs(n.duration_ms))
  add('Triggered by', n.triggered_by && (n.scheduled_at ? `${n.triggered_by} (tick ${n.scheduled_at})` : n.triggered_by))
  add('Attempt', n.attempt !== null && n.attempts !== null ? `${n.attempt} of ${n.attempts}` : null)
  add('Occurrences', n.count > 1 ? `${n.count} (${n.first_at} – ${n.last_at})` : null)
  add('Next run', n.next_run_at)
  add('Host', n.host)
  return out
}

/** 1234 → "1.2s", 3723000 → "1h2m3s": durations as people read them. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0).replace(/\.0$/, '')}s`
  let rest = Math.round(ms / 1000)
  let out = ''
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const k = Math.floor(rest / size)
    if (k > 0) out += `${k}${unit}`
    rest -= k * size
  }
  return out
}

/** Cuts text to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`
}

/**
 * The newest log lines that fit in `max` characters once joined (older ones are dropped first:
 * the end of a log says why it ended).
 */
export function tailWithin(lines: readonly string[], max: number, lineMax = 500): string[] {
  const out: string[] = []
  let size = 0
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = clip(lines[i], lineMax)
    if (size + line.length + 1 > max) break
    out.unshift(line)
    size += line.length + 1
  }
  return out
}

/** A request to an HTTP API, ready for the sender (always POST). */
export interface HttpMessage {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Text for HTML (Telegram's subset, e-mail): the characters markup would take for its own. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
