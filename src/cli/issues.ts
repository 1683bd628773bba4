import type {ChalkInstance} from 'chalk'
import type {ConfigIssue} from '../config/load.js'

/** `file:line:column key: message (hint)` — the form editors and CI annotators understand. */
export function formatIssue(path: string, issue: ConfigIssue, c?: ChalkInstance): string {
  const where = issue.line > 0 ? `${path}:${issue.line}:${issue.column}` : path
  const key = issue.key ? ` ${c ? c.bold(issue.key) : issue.key}:` : ''
  const hint = issue.hint ? ` (${issue.hint})` : ''
  return `${where}${key} ${issue.message}${c ? c.dim(hint) : hint}`
}
