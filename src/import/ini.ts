import type {InputError} from './model.js'

/**
 * INI as Python's configparser reads supervisord.conf: `[section]` headers, `key = value` or
 * `key: value` (keys lower-cased), values continued on indented lines, `;` and `#` comments on
 * their own line or after whitespace. The `ini` package knows none of the continuations, inline
 * comment rules or line numbers this needs, so it is these few lines instead.
 */

export interface IniEntry {
  readonly key: string
  readonly value: string
  readonly line: number
}

export interface IniSection {
  readonly name: string
  readonly line: number
  /** The comment lines right above the header, without their `;`/`#`. */
  readonly comments: readonly string[]
  readonly entries: readonly IniEntry[]
}

export function parseIni(text: string, source: string): {sections: IniSection[]; errors: InputError[]} {
  const sections: {name: string; line: number; comments: string[]; entries: {key: string; value: string; line: number}[]}[] = []
  const errors: InputError[] = []
  let comments: string[] = []
  let current: (typeof sections)[number] | undefined
  let last: {key: string; value: string; line: number} | undefined

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1
    const trimmed = raw.trim()
    if (trimmed === '') {
      comments = []
      last = undefined
      return
    }
    if (trimmed.startsWith(';') || trimmed.startsWith('#')) {
      comments.push(trimmed.replace(/^[;#]+\s?/, '').trim())
      return
    }
    const content = stripInlineComment(raw)
    if (/^\s/.test(raw) && last) {
      last.value = `${last.value}\n${content.trim()}`
      return
    }
    const header = /^\[([^\]]+)\]$/.exec(content.trim())
    if (header) {
      const name = header[1].trim()
      if (sections.some((s) => s.name === name)) errors.push({source, line, message: `section [${name}] appears twice`})
      current = {name, line, comments, entries: []}
      sections.push(current)
      comments = []
      last = undefined
      return
    }
    comments = []
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(content.trim())
    if (!current) {
      errors.push({source, line, message: 'a setting before any [section] header'})
      return
    }
    if (!pair) {
      errors.push({source, line, message: `expected "key = value" in [${current.name}], got ${JSON.stringify(trimmed)}`})
      return
    }
    const key = pair[1].trim().toLowerCase()
    if (current.entries.some((e) => e.key === key)) errors.push({source, line, message: `${key} is set twice in [${current.name}]`})
    last = {key, value: pair[2], line}
    current.entries.push(last)
  })
  return {sections, errors}
}

/** Drops a `;` or `#` comment that follows whitespace (configparser's inline comments). */
function stripInlineComment(line: string): string {
  const m = /\s[;#]/.exec(line)
  return m ? line.slice(0, m.index) : line
}
