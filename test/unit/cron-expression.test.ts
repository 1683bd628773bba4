import {describe, expect, it} from 'vitest'
import {CronSyntaxError, MIN_EVERY_MS, parseSchedule, type CronSpec, type Field} from '../../src/cron/expression.js'

function cron(expr: string): CronSpec {
  const spec = parseSchedule(expr)
  if (spec.type !== 'cron') throw new Error(`${expr} is not a cron expression`)
  return spec
}

/** The allowed values of a lookup table, in order. */
const on = (table: readonly boolean[]): number[] => table.flatMap((allowed, v) => (allowed ? [v] : []))
const vals = (field: Field): number[] => on(field.allowed)
const range = (lo: number, hi: number, step = 1): number[] => {
  const out: number[] = []
  for (let v = lo; v <= hi; v += step) out.push(v)
  return out
}

/** The error parseSchedule throws for `expr`; fails the test when it does not throw. */
function syntaxError(expr: string): CronSyntaxError {
  try {
    parseSchedule(expr)
  } catch (error) {
    expect(error).toBeInstanceOf(CronSyntaxError)
    return error as CronSyntaxError
  }
  throw new Error(`expected ${JSON.stringify(expr)} to be rejected`)
}

describe('parseSchedule: fields', () => {
  it('reads 5 fields as minute hour day-of-month month day-of-week, with second 0', () => {
    const s = cron('5 4 3 2 1')
    expect(s.type).toBe('cron')
    expect(s.source).toBe('5 4 3 2 1')
    expect(vals(s.second)).toEqual([0])
    expect(vals(s.minute)).toEqual([5])
    expect(vals(s.hour)).toEqual([4])
    expect(on(s.dom)).toEqual([3])
    expect(vals(s.month)).toEqual([2])
    expect(on(s.dow)).toEqual([1])
    expect(s.domRestricted).toBe(true)
    expect(s.dowRestricted).toBe(true)
  })

  it('reads 6 fields with leading seconds', () => {
    const s = cron('6 5 4 3 2 1')
    expect(vals(s.second)).toEqual([6])
    expect(vals(s.minute)).toEqual([5])
    expect(vals(s.hour)).toEqual([4])
    expect(on(s.dom)).toEqual([3])
    expect(vals(s.month)).toEqual([2])
    expect(on(s.dow)).toEqual([1])
  })

  it('tolerates surrounding and repeated whitespace, keeping the source as written', () => {
    const s = cron('  0\t3  * *   *  ')
    expect(vals(s.minute)).toEqual([0])
    expect(vals(s.hour)).toEqual([3])
    expect(s.source).toBe('  0\t3  * *   *  ')
  })

  it('* covers the whole field; day-of-week * is 0-6', () => {
    const s = cron('* * * * * *')
    expect(vals(s.second)).toEqual(range(0, 59))
    expect(vals(s.minute)).toEqual(range(0, 59))
    expect(vals(s.hour)).toEqual(range(0, 23))
    expect(on(s.dom)).toEqual(range(1, 31))
    expect(vals(s.month)).toEqual(range(1, 12))
    expect(on(s.dow)).toEqual(range(0, 6))
    expect(s.domRestricted).toBe(false)
    expect(s.dowRestricted).toBe(false)
    expect(s.hourWildcard).toBe(true)
  })

  it('lists, ranges and mixes of both', () => {
    expect(vals(cron('1,5,59 * * * *').minute)).toEqual([1, 5, 59])
    expect(vals(cron('* 9-17 * * *').hour)).toEqual(range(9, 17))
    expect(vals(cron('0-2,10,20-21 * * * *').minute)).toEqual([0, 1, 2, 10, 20, 21])
    expect(on(cron('* * 1,15,31 * *').dom)).toEqual([1, 15, 31])
    expect(vals(cron('* 5-5 * * *').hour)).toEqual([5])
  })

  it('steps: */15, 5/15 (from 5 to the end), 1-10/3, and steps in lists', () => {
    expect(vals(cron('*/15 * * * *').minute)).toEqual([0, 15, 30, 45])
    expect(vals(cron('5/15 * * * *').minute)).toEqual([5, 20, 35, 50])
    expect(vals(cron('1-10/3 * * * *').minute)).toEqual([1, 4, 7, 10])
    expect(vals(cron('0-6/4,30 * * * *').minute)).toEqual([0, 4, 30])
    expect(vals(cron('*/7 * * * * *').second)).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 56])
    expect(vals(cron('* */5 * * *').hour)).toEqual([0, 5, 10, 15, 20])
    expect(on(cron('* * */10 * *').dom)).toEqual([1, 11, 21, 31]) // starts at the field minimum
    expect(vals(cron('* * * */5 *').month)).toEqual([1, 6, 11])
    expect(vals(cron('*/90 * * * *').minute)).toEqual([0]) // a step wider than the field
  })

  it('month and weekday names, case-insensitively, alone and in ranges, lists and steps', () => {
    expect(vals(cron('* * * JAN *').month)).toEqual([1])
    expect(vals(cron('* * * jan,Jul,DEC *').month)).toEqual([1, 7, 12])
    expect(vals(cron('* * * feb-APR *').month)).toEqual([2, 3, 4])
    expect(vals(cron('* * * JAN/3 *').month)).toEqual([1, 4, 7, 10])
    expect(on(cron('* * * * mon').dow)).toEqual([1])
    expect(on(cron('* * * * SUN,sat').dow)).toEqual([0, 6])
    expect(on(cron('* * * * Mon-Fri').dow)).toEqual([1, 2, 3, 4, 5])
    expect(vals(cron('* * * 2-MAR *').month)).toEqual([2, 3]) // names and numbers mix
  })

  it('? is a wildcard that leaves the day field unrestricted', () => {
    const s = cron('0 0 ? * MON')
    expect(s.domRestricted).toBe(false)
    expect(s.dowRestricted).toBe(true)
    expect(on(s.dom)).toEqual(range(1, 31))
    const t = cron('0 0 1 * ?')
    expect(t.dowRestricted).toBe(false)
    expect(on(t.dow)).toEqual(range(0, 6))
  })

  it('day-of-week 7 is Sunday, alone, in lists and in ranges', () => {
    expect(on(cron('* * * * 7').dow)).toEqual([0])
    expect(on(cron('* * * * 6,7').dow)).toEqual([0, 6])
    expect(on(cron('* * * * 5-7').dow)).toEqual([0, 5, 6])
    expect(on(cron('* * * * 0-7').dow)).toEqual(range(0, 6))
    expect(cron('* * * * 7').dow).toHaveLength(7)
  })

  it('day-of-week n/s runs up to 7 like n-7/s, so 7/s is Sunday', () => {
    expect(on(cron('* * * * 5/2').dow)).toEqual([0, 5]) // 5, 7
    expect(on(cron('* * * * 5-7/2').dow)).toEqual([0, 5])
    expect(on(cron('* * * * 1/2').dow)).toEqual([0, 1, 3, 5]) // 1, 3, 5, 7
    expect(on(cron('* * * * 7/2').dow)).toEqual([0])
    expect(on(cron('* * * * */2').dow)).toEqual([0, 2, 4, 6])
  })

  it('L in day-of-month', () => {
    const s = cron('0 0 L * *')
    expect(s.domLast).toBe(true)
    expect(on(s.dom)).toEqual([])
    expect(s.domRestricted).toBe(true)
    const t = cron('0 0 1,15,l * *')
    expect(t.domLast).toBe(true)
    expect(on(t.dom)).toEqual([1, 15])
    expect(cron('0 0 1 * *').domLast).toBe(false)
  })

  it('nL (last weekday of the month) in day-of-week', () => {
    const s = cron('0 0 * * 5L')
    expect(s.dowLast).toEqual([false, false, false, false, false, true, false])
    expect(on(s.dow)).toEqual([])
    expect(s.dowRestricted).toBe(true)
    expect(cron('0 0 * * 7L').dowLast[0]).toBe(true)
    expect(cron('0 0 * * 0l').dowLast[0]).toBe(true)
    expect(cron('0 0 * * FRIL').dowLast[5]).toBe(true)
    const mixed = cron('0 0 * * 1,3L')
    expect(on(mixed.dow)).toEqual([1])
    expect(on(mixed.dowLast)).toEqual([3])
  })

  it('n#k (k-th weekday of the month) in day-of-week', () => {
    const s = cron('0 0 * * 5#3')
    expect(s.dowNth[5]).toEqual([3])
    expect(s.dowNth.filter((n) => n.length > 0)).toHaveLength(1)
    expect(on(s.dow)).toEqual([])
    expect(s.dowRestricted).toBe(true)
    expect(cron('0 0 * * 7#1').dowNth[0]).toEqual([1]) // Sunday as 7
    expect(cron('0 0 * * SUN#5').dowNth[0]).toEqual([5])
    const listed = cron('0 0 * * 1#1,1#3,5')
    expect(listed.dowNth[1]).toEqual([1, 3])
    expect(on(listed.dow)).toEqual([5])
  })

  it('marks the hour as wildcard only for a bare * or ?', () => {
    expect(cron('*/5 * * * *').hourWildcard).toBe(true)
    expect(cron('0 ? * * *').hourWildcard).toBe(true)
    expect(cron('0 2 * * *').hourWildcard).toBe(false)
    expect(cron('0 0-23 * * *').hourWildcard).toBe(false)
    expect(cron('* * 2 * * *').hourWildcard).toBe(false) // 6 fields: the hour is the third
    expect(cron('0 0 * * * *').hourWildcard).toBe(true)
  })

  it('day fields starting with * (such as */2) count as unrestricted (Vixie rule)', () => {
    expect(cron('0 0 */2 * 1').domRestricted).toBe(false)
    expect(cron('0 0 1 * */2').dowRestricted).toBe(false)
    expect(cron('0 0 1-31 * 1').domRestricted).toBe(true)
  })
})

describe('parseSchedule: shortcuts and @every', () => {
  const fieldsOf = (expr: string): Omit<CronSpec, 'source'> => {
    const {source: _source, ...rest} = cron(expr)
    return rest
  }

  it.each([
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
    ['@monthly', '0 0 1 * *'],
    ['@weekly', '0 0 * * 0'],
    ['@daily', '0 0 * * *'],
    ['@midnight', '0 0 * * *'],
    ['@hourly', '0 * * * *'],
  ])('%s is %s', (shortcut, expansion) => {
    const spec = cron(shortcut)
    expect(spec.source).toBe(shortcut)
    expect(fieldsOf(shortcut)).toEqual(fieldsOf(expansion))
  })

  it('pins the shortcut expansions value by value', () => {
    const yearly = cron('@yearly')
    expect([vals(yearly.second), vals(yearly.minute), vals(yearly.hour), on(yearly.dom), vals(yearly.month)]).toEqual([
      [0],
      [0],
      [0],
      [1],
      [1],
    ])
    expect(yearly.dowRestricted).toBe(false)
    expect(on(cron('@weekly').dow)).toEqual([0])
    expect(vals(cron('@hourly').hour)).toEqual(range(0, 23))
    expect(cron('@hourly').hourWildcard).toBe(true)
    expect(cron('@daily').hourWildcard).toBe(false)
  })

  it('shortcuts are case-insensitive and may be surrounded by whitespace', () => {
    expect(vals(cron('@DAILY').hour)).toEqual([0])
    expect(vals(cron('  @Hourly ').minute)).toEqual([0])
  })

  it('@every <duration> gives an interval in milliseconds', () => {
    expect(parseSchedule('@every 90s')).toEqual({type: 'every', source: '@every 90s', intervalMs: 90_000})
    expect(parseSchedule('@every 1h30m')).toMatchObject({type: 'every', intervalMs: 5_400_000})
    expect(parseSchedule('@every 1s')).toMatchObject({type: 'every', intervalMs: MIN_EVERY_MS})
    expect(parseSchedule('@every 2d')).toMatchObject({type: 'every', intervalMs: 172_800_000})
    expect(parseSchedule('@EVERY 5m')).toMatchObject({type: 'every', intervalMs: 300_000})
    expect(MIN_EVERY_MS).toBe(1000)
  })

  it('rejects @every below 1s', () => {
    expect(syntaxError('@every 500ms').message).toMatch(/@every.*500ms.*below the 1s minimum/)
    expect(syntaxError('@every 999ms').message).toMatch(/below the 1s minimum/)
    expect(syntaxError('@every 0').message).toMatch(/below the 1s minimum/)
  })

  it('rejects @every without a valid duration', () => {
    expect(syntaxError('@every').message).toMatch(/@every needs a duration/)
    expect(syntaxError('@every 5 minutes').message).toMatch(/@every needs a duration, got "5 minutes"/)
    expect(syntaxError('@every -5s').message).toMatch(/@every needs a duration/)
  })

  it('rejects @reboot with a hint to use run_on_start', () => {
    const e = syntaxError('@reboot')
    expect(e.message).toMatch(/@reboot/)
    expect(e.hint).toMatch(/run_on_start/)
    expect(syntaxError('@REBOOT').hint).toMatch(/run_on_start/)
  })

  it('rejects unknown shortcuts and lists the known ones', () => {
    const e = syntaxError('@fortnightly')
    expect(e.message).toMatch(/unknown shortcut @fortnightly/)
    for (const known of ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@every']) {
      expect(e.hint).toContain(known)
    }
    expect(syntaxError('@daily 3').message).toMatch(/unknown shortcut/)
    expect(syntaxError('@').message).toMatch(/unknown shortcut/)
  })
})

describe('parseSchedule: errors name the field', () => {
  it('wrong number of fields', () => {
    for (const [expr, n] of [
      ['* * * *', 4],
      ['* * * * * * *', 7],
      ['*', 1],
      ['', 1],
      ['   ', 1],
    ] as const) {
      const e = syntaxError(expr)
      expect(e.message).toMatch(/expected 5 fields .* or 6 with leading seconds/)
      expect(e.message).toContain(`got ${n}`)
      expect(e.hint).toBeTruthy()
    }
  })

  it.each([
    ['60 * * * *', /^minute value 60 is out of range 0-59$/],
    ['* 24 * * *', /^hour value 24 is out of range 0-23$/],
    ['* * 0 * *', /^day-of-month value 0 is out of range 1-31$/],
    ['* * 32 * *', /^day-of-month value 32 is out of range 1-31$/],
    ['* * * 0 *', /^month value 0 is out of range 1-12$/],
    ['* * * 13 *', /^month value 13 is out of range 1-12$/],
    ['* * * * 8', /^day-of-week value 8 is out of range 0-7$/],
    ['60 * * * * *', /^second value 60 is out of range 0-59$/],
    ['0 60 * * * *', /^minute value 60 is out of range 0-59$/],
    ['0-60 * * * *', /^minute value 60 is out of range 0-59$/],
    ['* * * 1-13 *', /^month value 13 is out of range 1-12$/],
    ['* * * * 8L', /^day-of-week value 8 is out of range 0-7$/],
    ['* * * * 8#1', /^day-of-week value 8 is out of range 0-7$/],
    ['* * * * 5#6', /^day-of-week "5#6": the occurrence after # must be 1-5$/],
    ['* * * * 5#0', /^day-of-week "5#0": the occurrence after # must be 1-5$/],
  ])('out of range: %s', (expr, message) => {
    expect(syntaxError(expr).message).toMatch(message)
  })

  it.each([
    ['30-10 * * * *', /^minute range "30-10" runs backwards$/, 'write it as "10-30" or a list'],
    ['* 17-9 * * *', /^hour range "17-9" runs backwards$/, 'write it as "9-17" or a list'],
    ['* * 20-10 * *', /^day-of-month range "20-10" runs backwards$/, 'write it as "10-20" or a list'],
    ['* * * DEC-JAN *', /^month range "DEC-JAN" runs backwards$/, 'write it as "JAN-DEC" or a list'],
    ['* * * * FRI-MON', /^day-of-week range "FRI-MON" runs backwards$/, 'write it as "MON-FRI" or a list'],
    ['50-10/5 * * * * *', /^second range "50-10" runs backwards$/, 'write it as "10-50" or a list'],
  ])('backwards range: %s', (expr, message, hint) => {
    const e = syntaxError(expr)
    expect(e.message).toMatch(message)
    expect(e.hint).toBe(hint)
  })

  it.each([
    ['*/0 * * * *', 'minute "*/0"'],
    ['* 1-10/0 * * *', 'hour "1-10/0"'],
    ['* * 5/0 * *', 'day-of-month "5/0"'],
    ['* * * */0 *', 'month "*/0"'],
    ['* * * * */0', 'day-of-week "*/0"'],
    ['*/0 * * * * *', 'second "*/0"'],
    ['*/ * * * *', 'minute "*/"'],
    ['*/x * * * *', 'minute "*/x"'],
    ['*/-1 * * * *', 'minute "*/-1"'],
  ])('bad step: %s', (expr, prefix) => {
    expect(syntaxError(expr).message).toBe(`${prefix}: the step after "/" must be a positive number`)
  })

  it('empty items and empty fields', () => {
    expect(syntaxError('1,,2 * * * *').message).toBe('minute: "" is not a number')
    expect(syntaxError('* 1, * * *').message).toBe('hour: "" is not a number')
    expect(syntaxError('* * * ,1 *').message).toBe('month: "" is not a number or a name (JAN…DEC)')
    expect(syntaxError('* * L, * *').message).toBe('empty day-of-month field')
    expect(syntaxError('* * * * 5L,').message).toBe('empty day-of-week field')
    expect(syntaxError('* 5- * * *').message).toBe('hour: "" is not a number')
  })

  it('rejects H (hashed values) with a hint', () => {
    for (const [expr, field] of [
      ['H * * * *', 'minute'],
      ['0 H * * *', 'hour'],
      ['H/5 * * * *', 'minute'],
      ['0 0 * * h', 'day-of-week'],
      ['H 0 0 * * *', 'second'],
    ] as const) {
      const e = syntaxError(expr)
      expect(e.message).toBe(`${field}: "H" (hashed random values) is not supported`)
      expect(e.hint).toMatch(/jitter/)
    }
  })

  it('rejects unknown names and names in the wrong field', () => {
    expect(syntaxError('* * * FOO *').message).toBe('month: "FOO" is not a number or a name (JAN…DEC)')
    expect(syntaxError('* * * MON *').message).toBe('month: "MON" is not a number or a name (JAN…DEC)')
    expect(syntaxError('* * * * JAN').message).toBe('day-of-week: "JAN" is not a number or a name (SUN…SAT)')
    expect(syntaxError('* * * * MONDAY').message).toBe('day-of-week: "MONDAY" is not a number or a name (SUN…SAT)')
    expect(syntaxError('* * MON * *').message).toBe('day-of-month: "MON" is not a number')
    expect(syntaxError('one * * * *').message).toBe('minute: "one" is not a number')
  })

  it('rejects L and # outside the fields that support them', () => {
    expect(syntaxError('L * * * *').message).toBe('minute: "L" is not a number')
    expect(syntaxError('* * 5L * *').message).toBe('day-of-month: "5L" is not a number')
    expect(syntaxError('* * LW * *').message).toBe('day-of-month: "LW" is not a number')
    expect(syntaxError('* * 1#2 * *').message).toBe('day-of-month: "1#2" is not a number')
    expect(syntaxError('* * * * LL').message).toBe('day-of-week: "L" is not a number or a name (SUN…SAT)')
  })

  it('rejects malformed ranges and steps', () => {
    expect(syntaxError('1-2-3 * * * *').message).toBe('minute "1-2-3": not a range')
    expect(syntaxError('1/2/3 * * * *').message).toBe('minute "1/2/3": more than one "/"')
    expect(syntaxError('* * * * -1').message).toBe('day-of-week: "" is not a number or a name (SUN…SAT)')
    expect(syntaxError('1.5 * * * *').message).toBe('minute: "1.5" is not a number')
  })
})
