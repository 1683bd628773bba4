import type {Config} from '../config/load.js'

export type ConfigDiff =
  | {readonly ok: true; readonly added: string[]; readonly removed: string[]; readonly changed: string[]}
  | {readonly ok: false; readonly message: string}

/**
 * What a reload would change (SPEC §8): units added, removed, and changed — any field, or its
 * secrets. `[daemon]`, `[scheduler]` and `[cluster]` cannot change without a restart. Notifiers,
 * routes and a unit's `notify` only decide who hears of its runs: they take effect without
 * counting as a change (a service is not restarted for them).
 */
export function diffConfigs(current: Config, next: Config): ConfigDiff {
  for (const section of ['daemon', 'scheduler', 'cluster'] as const) {
    if (JSON.stringify(next[section]) !== JSON.stringify(current[section])) {
      return {ok: false, message: `[${section}] changed: restart required (sched serve); nothing changed`}
    }
  }
  const fingerprints = (config: Config) => new Map(config.units.map(({notify: _notify, ...u}) => [u.name, JSON.stringify([u, config.secrets.get(u.name) ?? null])]))
  const before = fingerprints(current)
  const after = fingerprints(next)
  const added = [...after.keys()].filter((n) => !before.has(n))
  const removed = [...before.keys()].filter((n) => !after.has(n))
  const changed = [...after].filter(([n, print]) => before.has(n) && before.get(n) !== print).map(([n]) => n)
  return {ok: true, added, removed, changed}
}
