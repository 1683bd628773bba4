import {execFileSync} from 'node:child_process'

/** A resolved `user` or `user:group`: the ids to run as and what login tools put in the environment. */
export interface Account {
  readonly uid: number
  readonly gid: number
  readonly name: string
  readonly home: string
}

/**
 * Resolves through the system's name service (getent), so LDAP and other NSS users work as they
 * do for login. Throws with a message fit for the run's log when a name is unknown.
 */
export function resolveAccount(spec: string): Account {
  const [user, group] = spec.split(':')
  const pw = getent('passwd', user)
  if (!pw) throw new Error(`user "${user}" does not exist on this machine`)
  const [name, , uid, gid, , home] = pw.split(':')
  let groupId = Number(gid)
  if (group !== undefined) {
    const gr = getent('group', group)
    if (!gr) throw new Error(`group "${group}" does not exist on this machine`)
    groupId = Number(gr.split(':')[2])
  }
  return {uid: Number(uid), gid: groupId, name, home}
}

function getent(database: string, key: string): string | undefined {
  try {
    return execFileSync('getent', [database, key], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).split('\n')[0] || undefined
  } catch {
    return undefined
  }
}
