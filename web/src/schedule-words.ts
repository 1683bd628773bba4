import cronstrue from 'cronstrue'
import {SHORTCUTS} from '../../src/cron/expression.js'

const said = new Map<string, string>()

/** "At 02:30", "Every 1m": a schedule in words; the expression itself when it cannot say. */
export function scheduleInWords(cron: string): string {
  let words = said.get(cron)
  if (words === undefined) {
    words = describe(cron)
    said.set(cron, words)
  }
  return words
}

function describe(cron: string): string {
  const text = cron.trim()
  if (text === '') return 'manual only'
  const every = /^@every\s+(\S+)$/i.exec(text)
  if (every) return `Every ${every[1]}`
  try {
    return cronstrue.toString(SHORTCUTS[text.toLowerCase()] ?? text, {use24HourTimeFormat: true, verbose: false})
  } catch {
    return text
  }
}
