import {join} from 'node:path'

/**
 * Where each piece of state lives inside the state directory. One small JSON file per run next
 * to its log, so that no write is O(history) and "latest run" is a directory listing (ULIDs sort
 * by time).
 */
export class StateLayout {
  constructor(readonly root: string) {}

  get daemonFile(): string {
    return join(this.root, 'daemon.json')
  }

  get claimLock(): string {
    return join(this.root, 'claim.lock')
  }

  /** The daemon's compiled config, for quick CLI reads (compiled-config.ts). */
  get compiledConfigFile(): string {
    return join(this.root, 'compiled.json')
  }

  get tokenFile(): string {
    return join(this.root, 'api-token')
  }

  get runsRoot(): string {
    return join(this.root, 'runs')
  }

  get logsRoot(): string {
    return join(this.root, 'logs')
  }

  runsDir(unit: string): string {
    return join(this.root, 'runs', unit)
  }

  logsDir(unit: string): string {
    return join(this.root, 'logs', unit)
  }

  logFile(unit: string, id: string): string {
    return join(this.root, 'logs', unit, `${id}.log`)
  }

  get unitsDir(): string {
    return join(this.root, 'units')
  }

  unitFile(unit: string): string {
    return join(this.root, 'units', `${unit}.json`)
  }

  get requestsDir(): string {
    return join(this.root, 'requests')
  }

  /** Run records not yet known durable in their own files (record-journal.ts). */
  get journalDir(): string {
    return join(this.root, 'journal')
  }

  /** Notifications written before they are sent (one file per message), removed once settled. */
  get outboxDir(): string {
    return join(this.root, 'outbox')
  }

  /** Settled notifications, newest kept, for GET /api/notifications. */
  get notificationsDir(): string {
    return join(this.root, 'notifications')
  }

  /** Which tasks are failing and which services FATAL, as notifications last reported them. */
  get notifyStateFile(): string {
    return join(this.root, 'notify.json')
  }

  get corruptDir(): string {
    return join(this.root, 'corrupt')
  }
}
