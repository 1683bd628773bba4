import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect} from 'vitest'
import {BIN, runCli} from '../support/cli.js'
import {it, unwrap} from '../support/sandbox.js'

/**
 * The first ten minutes: `sched init` writes a config that validates and never overwrites one;
 * `sched service install|status|uninstall --root` write and remove the systemd unit and print
 * the systemctl commands (systemd is absent here); `sched completion` scripts load in their
 * shells and complete commands, flags and names from the config.
 */

const has = (program: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('sched init', () => {
  it('writes a starter that validates and boots, then refuses to overwrite it', async ({box: b}) => {
    const first = await runCli(['init'], {cwd: b.path('')})
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain(`wrote ${b.config}`)
    const text = readFileSync(b.config, 'utf8')
    expect(text).toContain('[tasks.hello]')
    expect(text).toContain('[services.ticker]')
    const valid = await b.cli(['validate'])
    expect(valid.stdout).toContain('1 task, 1 service')
    const again = await runCli(['init', '-c', b.config])
    expect(again.code).toBe(1)
    expect(unwrap(again.stderr)).toContain(`${b.config} already exists; nothing was written`)
    expect(readFileSync(b.config, 'utf8')).toBe(text)
    await b.start()
    expect(await b.stop()).toBe(0)
  })
})

describe('sched service', () => {
  const unit = (config: string, scope: 'system' | 'user') =>
    [
      '# Written by sched service install; sched service uninstall removes it.',
      '[Unit]',
      'Description=sched: cron scheduler and process supervisor',
      'Documentation=man:sched-serve(1) man:sched.toml(5)',
      ...(scope === 'system' ? ['Wants=network-online.target', 'After=network-online.target'] : []),
      '',
      '[Service]',
      'Type=simple',
      `ExecStart=${process.execPath} ${BIN} serve -c ${config} --log-format json --state-dir %S/sched`,
      'ExecReload=/bin/kill -HUP $MAINPID',
      'KillMode=mixed',
      'TimeoutStopSec=40',
      'Restart=on-failure',
      'RestartSec=2',
      'WorkingDirectory=~',
      'StateDirectory=sched',
      'StateDirectoryMode=0700',
      '',
      '[Install]',
      `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}`,
      '',
    ].join('\n')

  it('install --root writes the unit line by line and prints the systemctl commands; status and uninstall follow it', {timeout: 90_000}, async ({box: b}) => {
    b.write('[daemon]\nshutdown_timeout = "30s"\n\n[tasks.a]\nrun = "true"\n')
    const root = b.path('root')
    const install = await runCli(['service', 'install', '--root', root, '-c', b.config])
    expect(install.code, install.stderr).toBe(0)
    const file = join(root, 'etc', 'systemd', 'system', 'sched.service')
    expect(readFileSync(file, 'utf8').split('\n')).toEqual(unit(b.config, 'system').split('\n'))
    expect(install.stdout).toBe('systemctl daemon-reload\nsystemctl enable --now sched.service\n')

    const same = await runCli(['service', 'install', '--root', root, '-c', b.config, '--json'])
    expect(JSON.parse(same.stdout)).toEqual({unit_file: file, scope: 'system', changed: false, commands: ['systemctl daemon-reload', 'systemctl enable --now sched.service'], ran: false})

    writeFileSync(file, '[Service]\nExecStart=/bin/true\n')
    const clash = await runCli(['service', 'install', '--root', root, '-c', b.config])
    expect(clash.code).toBe(1)
    expect(unwrap(clash.stderr)).toContain('exists with other content; nothing was written')
    expect((await runCli(['service', 'install', '--root', root, '-c', b.config, '--force'])).code).toBe(0)

    const status = await runCli(['service', 'status', '--root', root, '--json'])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({unit_file: file, installed: true, active: null, enabled: null})

    const remove = await runCli(['service', 'uninstall', '--root', root])
    expect(remove.code, remove.stderr).toBe(0)
    expect(remove.stdout).toBe('systemctl disable --now sched.service\nsystemctl daemon-reload\n')
    expect(existsSync(file)).toBe(false)
    expect((await runCli(['service', 'status', '--root', root])).code).toBe(1)
    expect((await runCli(['service', 'uninstall', '--root', root])).code).toBe(1)
  })

  it('--user writes a user unit under XDG_CONFIG_HOME with systemctl --user', async ({box: b}) => {
    b.write('[daemon]\nshutdown_timeout = "30s"\n\n[tasks.a]\nrun = "true"\n')
    const root = b.path('root')
    const res = await runCli(['service', 'install', '--user', '--root', root, '-c', b.config], {env: {XDG_CONFIG_HOME: '/home/ann/.config'}})
    expect(res.code, res.stderr).toBe(0)
    const file = join(root, 'home', 'ann', '.config', 'systemd', 'user', 'sched.service')
    expect(readFileSync(file, 'utf8').split('\n')).toEqual(unit(b.config, 'user').split('\n'))
    expect(res.stdout).toBe('systemctl --user daemon-reload\nsystemctl --user enable --now sched.service\n')
    expect(res.stderr).toContain('loginctl enable-linger')
  })

  it('refuses an invalid config before writing anything', async ({box: b}) => {
    b.write('[tasks.a]\ncron = "nope"\n')
    const res = await runCli(['service', 'install', '--root', b.path('root'), '-c', b.config])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('tasks.a.cron: invalid cron "nope"')
    expect(existsSync(b.path('root'))).toBe(false)
  })
})

describe('sched completion', () => {
  /** Runs the bash completion function of `script` on a command line and returns what it offers. */
  function bashComplete(script: string, words: string[], cwd: string): string[] {
    const lines = [
      `source ${JSON.stringify(script)}`,
      `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})`,
      'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
      '__sched_complete',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')
    return execFileSync('bash', ['-c', lines], {cwd, encoding: 'utf8'}).split('\n').filter(Boolean)
  }

  it('bash: loads, and completes commands, topics, flags, choices, names from the config and run ids from the state dir', {timeout: 90_000}, async ({box: b}) => {
    const printed = await runCli(['completion', 'bash'])
    expect(printed.code).toBe(0)
    const script = b.path('sched.bash')
    writeFileSync(script, printed.stdout)
    expect(execFileSync('bash', ['-c', `source ${JSON.stringify(script)} && complete -p sched`], {encoding: 'utf8'})).toBe('complete -F __sched_complete sched\n')
    b.write('[tasks.backup-db]\nrun = "true"\n\n[tasks.rotate]\nrun = "true"\n\n[services.web]\nrun = "sleep 9"\n')
    const bin = [BIN]
    expect(bashComplete(script, [...bin, 'im'], b.path(''))).toEqual(['import'])
    expect(bashComplete(script, [...bin, 'import', ''], b.path(''))).toEqual(['compose', 'crontab', 'supervisord'])
    expect(bashComplete(script, [...bin, 'service', 'install', '--u'], b.path(''))).toEqual(['--user'])
    expect(bashComplete(script, [...bin, 'completion', ''], b.path(''))).toEqual(['bash', 'zsh', 'fish'])
    expect(bashComplete(script, [...bin, 'trigger', '-c', b.config, ''], b.path(''))).toEqual(['backup-db', 'rotate'])
    expect(bashComplete(script, [...bin, 'restart', ''], b.path(''))).toEqual(['web'])
    const {id} = JSON.parse((await b.cli(['trigger', 'rotate', '--json'])).stdout) as {id: string}
    expect(bashComplete(script, [...bin, 'logs', '-c', b.config, '--state-dir', b.state, ''], b.path(''))).toEqual(['backup-db', 'rotate', 'web', id])
  })

  it.skipIf(!has('zsh'))('zsh: the script loads after compinit', async () => {
    const res = await runCli(['completion', 'zsh'])
    const out = execFileSync('zsh', ['-fc', `autoload -U compinit && compinit -u -D && eval "$1" && print -- $_comps[sched]`, 'zsh', res.stdout], {encoding: 'utf8'})
    expect(out.trim()).toBe('__sched_complete')
  })

  it.skipIf(!has('fish'))('fish: the script loads and completes commands', async () => {
    const res = await runCli(['completion', 'fish'])
    const out = execFileSync('fish', ['-c', `${res.stdout}\ncomplete -C 'sched import '`], {encoding: 'utf8'})
    expect(out.split('\n').map((l) => l.split('\t')[0]).filter(Boolean)).toEqual(['compose', 'crontab', 'supervisord'])
  })

  it('without a shell: a usage error', async () => {
    const res = await runCli(['completion'])
    expect(res.code).toBe(2)
  })
})
