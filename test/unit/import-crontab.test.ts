import {describe, expect, it} from 'vitest'
import {checkImport} from '../../src/import/check.js'
import {convertCrontab, splitPercent} from '../../src/import/crontab.js'
import {nameFromCommand} from '../../src/import/names.js'
import {renderUnits} from '../../src/import/toml-writer.js'
import {expectGoldenText} from '../support/golden-text.js'
import {accepted, readFixture as read} from '../support/import.js'

describe('import crontab', () => {
  it('a user crontab: variables, CRON_TZ and TZ, @reboot, %, comments as descriptions, readable names', () => {
    const result = convertCrontab(read('crontab'), {source: 'crontab', userColumn: false})
    expectGoldenText('import/crontab.toml', accepted(result))
    expect(result.units.map((u) => u.name)).toEqual([
      'backup-db',
      'logrotate',
      'artisan-schedule-run',
      'warm-cache',
      'mail',
      'curl-hc-ping-com',
      'date',
      'backup-db-2',
      'manage-clearsessions',
    ])
    expect(result.unmapped).toEqual([
      {source: 'crontab', line: 6, what: 'MAILTO=ops@example.com', why: expect.stringContaining('sched logs NAME')},
      {source: 'crontab', line: 26, what: 'RANDOM_DELAY=10', why: expect.stringContaining('jitter')},
    ])
  })

  it('the first unescaped % starts standard input, later ones are newlines, \\% is a percent sign', () => {
    const unit = (line: string) => convertCrontab(line, {source: 'c', userColumn: false}).units[0].fields.run
    expect(unit('0 8 * * 1 mail -s hi a@b%Hi,%%bye')).toBe("mail -s hi a@b <<'SCHED_STDIN'\nHi,\n\nbye\nSCHED_STDIN\n")
    expect(unit('0 0 1 * * date +\\%Y-\\%m > /tmp/m')).toBe('date +%Y-%m > /tmp/m')
    expect(unit('* * * * * cat%SCHED_STDIN%x')).toBe("cat <<'SCHED_STDIN_2'\nSCHED_STDIN\nx\nSCHED_STDIN_2\n")
  })

  it.each([
    ['cmd', {command: 'cmd'}],
    ['cmd%', {command: 'cmd', stdin: ''}],
    ['cmd%a%b', {command: 'cmd', stdin: 'a\nb'}],
    ['a\\%b%c\\%d', {command: 'a%b', stdin: 'c%d'}],
    ['a\\b', {command: 'a\\b'}],
  ])('splitPercent(%j)', (text, expected) => {
    expect(splitPercent(text)).toEqual(expected)
  })

  it('system crontabs: the user column becomes user; cron.d files cron ignores are listed, not imported', () => {
    const taken = new Set<string>()
    const results = [read('etc-crontab'), read('cron.d/app'), read('cron.d/certbot')].map((text, i) =>
      convertCrontab(text, {source: ['/etc/crontab', '/etc/cron.d/app', '/etc/cron.d/certbot'][i], userColumn: true, taken}),
    )
    const merged = {units: results.flatMap((r) => r.units), unmapped: results.flatMap((r) => r.unmapped), errors: []}
    expectGoldenText('import/cron-system.toml', accepted(merged))
    expect(merged.units.map((u) => [u.name, u.fields.user])).toEqual([
      ['cron-hourly', 'root'],
      ['cron-daily', 'root'],
      ['cron-weekly', 'root'],
      ['cron-monthly', 'root'],
      ['artisan-sessions-purge', 'www-data'],
      ['backup-db', 'postgres:postgres'],
      ['certbot-renew', 'root'],
    ])
    // crontab(5)'s long example header is not the first entry's description.
    expect(merged.units[0].fields.description).toBeUndefined()
    expect(merged.units[4].fields.description).toBe('Purge expired sessions')
  })

  it('bad lines are errors with their line numbers; so is what sched refuses, at the line that caused it', () => {
    const result = convertCrontab(read('crontab-bad'), {source: 'bad.cron', userColumn: false})
    expect(result.errors).toEqual([{source: 'bad.cron', line: 4, message: 'expected a schedule (5 fields or @daily-style) and a command'}])
    const text = renderUnits(result.units)
    expect(checkImport(text, '/tmp/sched.toml', result.units, {isRoot: true, hostZone: 'UTC'}).errors).toEqual([
      {source: 'bad.cron', line: 3, message: 'cron: invalid cron "61 * * * *": minute value 61 is out of range 0-59'},
      {source: 'bad.cron', line: 5, message: expect.stringMatching(/^timezone: unknown time zone "Mars\/Olympus"/)},
      {source: 'bad.cron', line: 7, message: expect.stringMatching(/^cron: invalid cron "@fortnightly"/)},
    ])
  })

  it.each([
    ['/usr/local/bin/backup-db.sh --all > /var/log/b.log 2>&1', 'backup-db'],
    ['pg_dump app > /backups/app.sql', 'pg_dump'],
    ['cd /srv/app && php artisan schedule:run >> /dev/null 2>&1', 'artisan-schedule-run'],
    ['python3 /srv/app/manage.py clearsessions', 'manage-clearsessions'],
    ['test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }', 'cron-daily'],
    ["test -x /usr/bin/certbot && perl -e 'sleep int(rand(43200))' && certbot -q renew", 'certbot-renew'],
    ['nice -n 19 ionice -c3 flock -n /tmp/x.lock /opt/bin/reindex', 'reindex'],
    ['FOO=1 BAR=2 /usr/bin/env node /srv/jobs/send-mail.js', 'send-mail'],
    ['curl -fsS --retry 3 https://hc-ping.com/abc', 'curl-hc-ping-com'],
    ['npm run build --prefix /srv/site', 'npm-build'],
    ['sh -c "echo hi"', ''],
    ['docker compose -f /srv/c.yml run --rm backup', 'docker-compose'],
    ['timeout 1h /usr/local/bin/Sync_Files.sh', 'sync_files'],
  ])('nameFromCommand(%j) = %j', (command, name) => {
    expect(nameFromCommand(command)).toBe(name)
  })
})
