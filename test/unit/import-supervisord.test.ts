import {describe, expect, it} from 'vitest'
import {parseIni} from '../../src/import/ini.js'
import {convertSupervisord} from '../../src/import/supervisord.js'
import {expectGoldenText} from '../support/golden-text.js'
import {accepted, readFixture} from '../support/import.js'

const convert = (text: string, env: NodeJS.ProcessEnv = {}) => convertSupervisord(text, {source: 'supervisord.conf', path: '/etc/supervisor/supervisord.conf', env})

describe('import supervisord', () => {
  it('programs with a group, numprocs, environment over [supervisord] environment, and expansions', () => {
    const result = convert(readFixture('supervisord.conf'))
    expectGoldenText('import/supervisord.toml', accepted(result))
    expect(result.units.map((u) => [u.name, u.fields.group, u.fields.instances])).toEqual([
      ['web', 'app', 2],
      ['worker', 'app', undefined],
      ['beat', 'app', undefined],
    ])
    expect(result.units[0].fields.run).toBe('exec /srv/app/venv/bin/gunicorn app:wsgi --bind "127.0.0.1:80$(printf %02d "${SCHED_INSTANCE}")" --name "web ${SCHED_INSTANCE}"')
    expect(result.units[1].fields).toMatchObject({working_dir: '/etc/supervisor/app', restart: 'on_failure', exit_codes: [0, 2], graceful_stop: '10m'})
    expect(result.unmapped.map((u) => [u.line, u.what])).toEqual([
      [52, '[group:app] priority'],
      [1, '[supervisord]'],
      [6, '[unix_http_server]'],
      [9, '[rpcinterface:supervisor]'],
      [12, '[supervisorctl]'],
      [31, '[program:web] stdout_logfile'],
      [32, '[program:web] redirect_stderr'],
      [54, '[eventlistener:memmon]'],
      [58, '[include] /etc/supervisor/conf.d/*.conf'],
    ])
  })

  it("supervisord's own defaults are written where sched's differ", () => {
    const [unit] = convert('[program:x]\ncommand=/bin/x\n').units
    expect(unit.fields).toEqual({run: 'exec /bin/x', healthy_after: '1s', graceful_stop: '10s'})
  })

  it('the command is words as supervisord splits them, quoted back for sh', () => {
    const run = (command: string, env = {}) => convert(`[program:x]\ncommand=${command}\n`, env).units[0]?.fields.run
    expect(run(`/bin/echo "a b" 'c$d' e\\ f`)).toBe(`exec /bin/echo 'a b' 'c$d' 'e f'`)
    expect(run('/bin/x --port=%(ENV_PORT)s 100%%')).toBe('exec /bin/x "--port=${PORT}" 100%')
    expect(run('/bin/x %(program_name)s-%(numprocs)d')).toBe('exec /bin/x x-1')
  })

  it('expansions outside the command are written in; ENV_X from the environment of the import', () => {
    const [unit] = convert('[program:x]\ncommand=/bin/x\ndirectory=%(ENV_APP_HOME)s/%(program_name)s\n', {APP_HOME: '/srv'}).units
    expect(unit.fields.working_dir).toBe('/srv/x')
  })

  it('bad input is an error at its line', () => {
    const errors = (text: string) => convert(text).errors
    expect(errors('command=/bin/x\n')).toEqual([{source: 'supervisord.conf', line: 1, message: 'a setting before any [section] header'}])
    expect(errors('[program:x]\ncommand=/bin/x\nnumprocs=two\n')).toEqual([{source: 'supervisord.conf', line: 3, message: '[program:x] numprocs must be an integer, got "two"'}])
    expect(errors('[program:x]\ncommand=/bin/x\nautostart=maybe\n')).toEqual([{source: 'supervisord.conf', line: 3, message: '[program:x] autostart must be true or false, got "maybe"'}])
    expect(errors('[program:x]\ncommand=/bin/x "unclosed\n')).toEqual([{source: 'supervisord.conf', line: 2, message: '[program:x] command has an unbalanced quote'}])
    expect(errors('[program:x]\ndirectory=/srv\n')).toEqual([{source: 'supervisord.conf', line: 1, message: '[program:x] has no command'}])
    expect(errors('[program:x]\ncommand=/bin/x\ndirectory=/srv/%(process_num)d\n')[0].message).toContain('differs per instance')
    expect(errors('[program:x]\ncommand=/bin/x\nstopsignal=STOP\n')[0]).toMatchObject({line: 3, message: expect.stringContaining('stopsignal must be one of')})
  })

  it('parses INI as configparser does: continuation lines, inline comments after whitespace, lower-case keys', () => {
    const {sections, errors} = parseIni('; about a\n[a]\nKey = one ; note\n  two\nurl=http://x/#frag\n', 'f')
    expect(errors).toEqual([])
    expect(sections).toEqual([{name: 'a', line: 2, comments: ['about a'], entries: [{key: 'key', value: 'one\ntwo', line: 3}, {key: 'url', value: 'http://x/#frag', line: 5}]}])
  })
})
