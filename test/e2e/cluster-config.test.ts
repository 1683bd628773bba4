import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {runCli, tempDir} from '../support/cli.js'

const dirs: {cleanup(): void}[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup()
})

function configFile(body: string): {path: string; dir: string} {
  const dir = tempDir('sched-cluster-config-')
  dirs.push(dir)
  const path = join(dir.path, 'sched.toml')
  writeFileSync(path, body)
  return {path, dir: dir.path}
}

it('sched validate reports a bad [cluster] url at its line without printing the password', async () => {
  const {path} = configFile('[cluster]\nurl = "mysql://admin:hunter2@db/x"\nnode = "a"\n')
  const result = await runCli(['validate', '-c', path, '--json'])
  expect(result.code).toBe(1)
  const out = JSON.parse(result.stdout)
  expect(out.errors).toEqual([
    {key: 'cluster.url', line: 2, column: 1, message: 'expected a PostgreSQL URL such as postgres://sched:PASSWORD@db.example:5432/sched, got "mysql://admin:***@db/x"', hint: 'set SCHED_CLUSTER_URL to keep the password out of the file'},
  ])
  expect(result.stdout + result.stderr).not.toContain('hunter2')
})

