/** Indices of the lines containing `query`, any case ('' finds nothing). */
export function searchLines(lines: readonly {readonly text: string}[], query: string): number[] {
  if (!query) return []
  const needle = query.toLowerCase()
  const out: number[] = []
  for (let i = 0; i < lines.length; i++) if (lines[i].text.toLowerCase().includes(needle)) out.push(i)
  return out
}

const ERROR_WORDS = /\b(error|fatal|panic|exception|traceback)\b/i

/**
 * The line "jump to first error" goes to: the first stderr line, else the first line that says
 * error, fatal, panic, exception or traceback. Undefined when there is none.
 */
export function firstErrorLine(lines: readonly {readonly stream: string; readonly text: string}[]): number | undefined {
  const stderr = lines.findIndex((l) => l.stream === 'stderr')
  if (stderr >= 0) return stderr
  const worded = lines.findIndex((l) => ERROR_WORDS.test(l.text))
  return worded >= 0 ? worded : undefined
}
