import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect} from 'vitest'
import {it} from '../support/sandbox.js'

/**
 * Issue 8, "Prove it": a secrets census. A value from `secrets_file` that the task prints, and
 * its key, are looked for everywhere sched writes or answers — every API route, the CLI's human
 * and JSON output, every file in the state directory (records, logs, books, journal) and the
 * daemon's own log — and found nowhere.
 */

const SECRET = 's3cr3t-V4lue-9f8e7d'
const KEY = 'DB_PASSWORD_CENSUS'

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...filesUnder(path))
    else out.push(path)
  }
  return out
}

describe('secrets census', () => {
  it('a secret the task prints appears in no API answer, CLI output, state file or daemon log line', async ({box}) => {
    const b = box.with((s) => {
      writeFileSync(s.path('secrets.env'), `${KEY}=${SECRET}\n`)
      return `[tasks.leaky]\nrun = ${JSON.stringify(`echo "pw=$${KEY}"; echo "$${KEY}" >&2; exit 1`)}\nsecrets_file = ${JSON.stringify(s.path('secrets.env'))}\n`
    })
    const daemon = await b.start()
    const auth = {headers: {authorization: `Bearer ${daemon.token}`}}
    const id = await b.trigger('leaky')
    await b.ended('leaky', id)
    const seen: string[] = []
    for (const path of ['/api/tasks', '/api/tasks/leaky', `/api/runs`, `/api/runs/${id}`, `/api/runs/${id}/log`, `/api/runs/${id}/log/raw`, '/api/overview', '/api/daemon', '/metrics']) {
      seen.push(`${path}: ${await (await fetch(daemon.url + path, auth)).text()}`)
    }
    const triggered = await fetch(`${daemon.url}/api/tasks/leaky/run?wait=true`, {...auth, method: 'POST'})
    seen.push(`trigger: ${await triggered.text()}`)
    for (const args of [['list'], ['list', '--json'], ['status'], ['status', '--json'], ['runs', 'leaky'], ['runs', 'leaky', '--json'], ['logs', id], ['trigger', 'leaky', '--wait'], ['validate'], ['validate', '--json']]) {
      const res = await b.cli(args)
      seen.push(`sched ${args.join(' ')}: ${res.stdout}${res.stderr}`)
    }
    await b.stop()
    for (const file of filesUnder(b.state)) seen.push(`${file}: ${readFileSync(file).toString('latin1')}`)
    seen.push(`daemon log: ${daemon.stderr()}`)

    // The census is not empty: the redaction marker proves the printed lines were looked at.
    expect(seen.join('\n')).toContain('[redacted]')
    for (const text of seen) {
      expect(text.includes(SECRET), text.slice(0, 200)).toBe(false)
      expect(text.includes(KEY), text.slice(0, 200)).toBe(false)
    }
  }, 120_000)
})
