import {describe, expect, it} from 'vitest'
import {NS} from '../../src/core/duration.js'
import {type UnitFacts, installCommands, systemdQuote, systemdUnit, uninstallCommands, unitFilePath} from '../../src/service/systemd-unit.js'

const facts: UnitFacts = {
  scope: 'system',
  node: '/usr/bin/node',
  sched: '/usr/lib/node_modules/sched/bin/run.js',
  config: '/etc/sched/sched.toml',
  configHasStateDir: false,
  shutdownTimeout: 10 * NS.s,
}

const line = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(`${key}=`))

describe('systemd unit', () => {
  it.each([
    ['/usr/bin/node', '/usr/bin/node'],
    ['/opt/my apps/sched.toml', '"/opt/my apps/sched.toml"'],
    ['/srv/100%/x', '/srv/100%%/x'],
    ['/srv/$HOME/x', '"/srv/$$HOME/x"'],
    ['/srv/"q"\\x', '"/srv/\\"q\\"\\\\x"'],
  ])('quotes %s for ExecStart as %s', (arg, quoted) => {
    expect(systemdQuote(arg)).toBe(quoted)
  })

  it('stops within shutdown_timeout plus a margin, rounded up to whole seconds', () => {
    expect(line(systemdUnit(facts), 'TimeoutStopSec')).toBe('TimeoutStopSec=20')
    expect(line(systemdUnit({...facts, shutdownTimeout: 1500 * NS.ms}), 'TimeoutStopSec')).toBe('TimeoutStopSec=12')
  })

  it("uses systemd's StateDirectory only when neither the config nor the installer names one", () => {
    const own = systemdUnit(facts)
    expect(line(own, 'ExecStart')).toBe('ExecStart=/usr/bin/node /usr/lib/node_modules/sched/bin/run.js serve -c /etc/sched/sched.toml --log-format json --state-dir %S/sched')
    expect(line(own, 'StateDirectory')).toBe('StateDirectory=sched')
    const configured = systemdUnit({...facts, configHasStateDir: true})
    expect(line(configured, 'ExecStart')).not.toContain('--state-dir')
    expect(line(configured, 'StateDirectory')).toBeUndefined()
    const given = systemdUnit({...facts, stateDir: '/data/sched state'})
    expect(line(given, 'ExecStart')).toMatch(/ --state-dir "\/data\/sched state"$/)
    expect(line(given, 'StateDirectory')).toBeUndefined()
  })

  it('puts system and user units where their managers look, under a root', () => {
    expect(unitFilePath('system', 'sched', '/', '/root', {})).toBe('/etc/systemd/system/sched.service')
    expect(unitFilePath('user', 'sched', '/', '/home/ann', {})).toBe('/home/ann/.config/systemd/user/sched.service')
    expect(unitFilePath('user', 'sched', '/stage', '/home/ann', {XDG_CONFIG_HOME: '/cfg'})).toBe('/stage/cfg/systemd/user/sched.service')
  })

  it('enables and starts, and disables and stops, with --user for a user unit', () => {
    expect(installCommands('user', 'sched')).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', 'sched.service'],
    ])
    expect(uninstallCommands('system', 'x')).toEqual([
      ['systemctl', 'disable', '--now', 'x.service'],
      ['systemctl', 'daemon-reload'],
    ])
  })
})
