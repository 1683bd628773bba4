import {label} from '../api/metrics-text.js'

type Counter = 'sent' | 'failed' | 'coalesced'

const HELP: Record<Counter, string> = {
  sent: 'Notifications delivered since the daemon started, by notifier.',
  failed: 'Notifications given up (after retries, or refused) since the daemon started, by notifier.',
  coalesced: 'Events folded into another notification by a coalesce window, by notifier.',
}

/** Counters for GET /metrics (SPEC §14 surface), reset with the process like every Prometheus counter. */
export class NotifyMetrics {
  private readonly counts: Record<Counter, Map<string, number>> = {sent: new Map(), failed: new Map(), coalesced: new Map()}

  count(counter: Counter, notifier: string): void {
    const m = this.counts[counter]
    m.set(notifier, (m.get(notifier) ?? 0) + 1)
  }

  render(pending: ReadonlyMap<string, number>): string {
    const out: string[] = []
    for (const counter of ['sent', 'failed', 'coalesced'] as const) {
      const name = `sched_notifications_${counter}_total`
      out.push(`# HELP ${name} ${HELP[counter]}`, `# TYPE ${name} counter`)
      for (const [notifier, n] of this.counts[counter]) out.push(`${name}{notifier="${label(notifier)}"} ${n}`)
    }
    out.push('# HELP sched_notifications_pending Notifications in the outbox waiting to be delivered, by notifier.', '# TYPE sched_notifications_pending gauge')
    for (const [notifier, n] of pending) out.push(`sched_notifications_pending{notifier="${label(notifier)}"} ${n}`)
    return `${out.join('\n')}\n`
  }
}
