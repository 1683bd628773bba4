import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect} from 'vitest'
import {ROOT, startDaemon, tempDir} from '../support/cli.js'
import {it} from '../support/sandbox.js'

/**
 * The package as a user gets it: the project's files (what a fresh clone holds, with
 * node_modules shared) are packed with `npm pack`, whose prepack builds dist/ there, and the
 * tarball is installed into an empty directory. The installed `sched` must answer --version,
 * validate a config, serve it and take a trigger, with nothing but the package's own files.
 * Packing a copy leaves this checkout's dist/, which the other tests run, alone.
 */

const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {cwd, encoding: 'utf8', env: {...process.env, npm_config_update_notifier: 'false'}})

describe('the npm package', () => {
  it('packs with a fresh build, installs into an empty directory, and its sched validates, serves and triggers', {timeout: 240_000}, async () => {
    const work = tempDir('sched-pack-')
    try {
      const clone = join(work.path, 'clone')
      mkdirSync(clone)
      const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {cwd: ROOT, encoding: 'utf8'}).split('\0').filter(Boolean)
      for (const file of files) if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(clone, file), {recursive: true})
      symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'))
      expect(existsSync(join(clone, 'dist'))).toBe(false)

      const tarball = npm(['pack', '--pack-destination', work.path], clone).trim().split('\n').at(-1)!
      const listing = execFileSync('tar', ['-tzf', join(work.path, tarball)], {encoding: 'utf8'}).split('\n')
      expect(listing).toEqual(expect.arrayContaining(['package/bin/run.js', 'package/dist/index.js', 'package/dist/daemon-main.js', 'package/dist/completion-main.js', 'package/dist/completion/sched.bash', 'package/oclif.manifest.json', 'package/LICENSE', 'package/man/sched.1']))
      expect(listing.filter((f) => f.endsWith('.map'))).toEqual([])

      const app = join(work.path, 'app')
      mkdirSync(app)
      writeFileSync(join(app, 'package.json'), '{"private": true}\n')
      npm(['install', join(work.path, tarball)], app)
      expect(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.'))).toEqual(['sched'])
      const bin = join(app, 'node_modules', '.bin', 'sched')
      const sched = (args: string[]) => execFileSync(bin, args, {cwd: app, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})

      const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string
      expect(sched(['--version'])).toContain(`sched/${version}`)
      const config = join(app, 'sched.toml')
      writeFileSync(config, '[tasks.hello]\nrun = "echo hello from the package"\n')
      expect(sched(['validate', '-c', config])).toContain('1 task')

      const state = join(app, 'state')
      const daemon = await startDaemon(config, state, [], {}, join(app, 'node_modules', 'sched', 'bin', 'run.js'))
      try {
        const out = execFileSync(bin, ['trigger', 'hello', '--wait', '--json', '-c', config, '--state-dir', state], {cwd: app, encoding: 'utf8'})
        expect(JSON.parse(out)).toMatchObject({task_name: 'hello', status: 'ended', end_reason: 'success', exit_code: 0})
      } finally {
        expect(await daemon.stop()).toBe(0)
      }
    } finally {
      work.cleanup()
    }
  })
})
