import {formatDuration, msToNs} from '../core/duration.js'
import {toCivil} from '../cron/zone.js'

/** "2026-11-30 02:00:00" in the given zone, for tables. */
export function formatTime(instant: number, zone: string): string {
  return new Date(toCivil(instant, zone)).toISOString().slice(0, 19).replace('T', ' ')
}

/** "in 9h12m" / "5m ago", to the second. */
export function formatRelative(instant: number, now: number): string {
  const delta = Math.round((instant - now) / 1000) * 1000
  if (delta === 0) return 'now'
  const text = formatDuration(msToNs(Math.abs(delta)))
  return delta > 0 ? `in ${text}` : `${text} ago`
}
