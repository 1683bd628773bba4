import {basename} from 'node:path'
import {shellWords} from './shell-words.js'

/**
 * Readable unit names for imported commands: `/usr/local/bin/backup-db.sh --all` is
 * `backup-db`, `python3 manage.py clearsessions` is `manage-clearsessions`,
 * `run-parts /etc/cron.daily` is `cron-daily` — never `task1`.
 */

/** Programs that only guard or wrap the command that matters (`test -x … &&`, `nice -n 10 …`). */
const GUARDS = new Set(['test', '[', '[[', 'cd', 'true', ':', 'sleep', 'echo', 'mkdir', 'export', 'set', 'umask', 'source', '.'])
/** Wrappers: the command they run is the name; their flags (and the values of these) are skipped. */
const WRAPPERS: Record<string, readonly string[]> = {
  exec: [],
  env: ['-u', '-C', '-S'],
  nice: ['-n'],
  ionice: ['-c', '-n', '-p'],
  nohup: [],
  chronic: [],
  time: [],
  sudo: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U'],
  flock: ['-w', '-E', '-c', '--timeout', '--conflict-exit-code'],
  timeout: ['-s', '-k', '--signal', '--kill-after'],
  setlock: [],
  'run-one': [],
  cronic: [],
}
/** Wrappers whose first plain argument is theirs, not the command's (`flock FILE cmd`, `timeout 1h cmd`). */
const WRAPPER_TAKES_ONE = new Set(['flock', 'timeout', 'setlock'])
const INTERPRETERS = /^(sh|bash|dash|zsh|ksh|python[0-9.]*|node|nodejs|deno|bun|php[0-9.]*|perl|ruby|Rscript|java)$/
/** Programs whose next word says what they do (`make backup`, `npm run build`). */
const DISPATCHERS = new Set(['make', 'npm', 'pnpm', 'yarn', 'rake', 'artisan', 'manage', 'console', 'docker', 'docker-compose', 'kubectl', 'systemctl', 'git', 'drush', 'wp', 'certbot', 'composer', 'bundle', 'cargo', 'go', 'mix'])
const SCRIPT_SUFFIX = /\.(sh|bash|py|pl|rb|js|mjs|cjs|php|ts)$/

/** The most telling name for a shell command line, as a slug; "" when there is none. */
export function nameFromCommand(command: string): string {
  for (const words of shellWords(command, {operators: true}).commands) {
    const name = nameFromWords(words)
    if (name) return name
  }
  return ''
}

function nameFromWords(input: string[]): string {
  let words = input.filter((w) => !/^\d?[<>]/.test(w))
  // Leading variable assignments: FOO=bar cmd.
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words = words.slice(1)
  for (;;) {
    if (!words.length) return ''
    const program = basename(words[0])
    const valued = WRAPPERS[program]
    if (!valued) break
    let i = 1
    while (i < words.length && words[i].startsWith('-')) i += valued.includes(words[i]) ? 2 : 1
    if (WRAPPER_TAKES_ONE.has(program)) i++
    words = words.slice(i)
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words = words.slice(1)
  }
  let program = basename(words[0])
  if (GUARDS.has(program)) return ''
  let rest = words.slice(1)
  if (INTERPRETERS.test(program)) {
    const script = rest.find((w) => !w.startsWith('-'))
    // Inline code (`perl -e '…'`, `sh -c '…'`) names nothing.
    if (rest.includes('-c') || rest.includes('-e')) return ''
    if (!script) return slug(program)
    program = basename(script)
    rest = rest.slice(rest.indexOf(script) + 1)
  }
  if (program === 'run-parts') {
    const dir = rest.find((w) => !w.startsWith('-'))
    return slug(dir ? basename(dir) : program)
  }
  const stem = program.replace(SCRIPT_SUFFIX, '')
  if (program === 'curl' || program === 'wget') {
    const url = rest.find((w) => /^['"]?https?:\/\//.test(w))
    const host = url ? /^['"]?https?:\/\/([^/:'"]+)/.exec(url)?.[1] : undefined
    return slug(host ? `${stem}-${host}` : stem)
  }
  if (DISPATCHERS.has(stem)) {
    const what = rest.filter((w) => !w.startsWith('-') && !w.includes('=') && !w.includes('/')).slice(0, stem === 'npm' || stem === 'pnpm' || stem === 'yarn' ? 2 : 1)
    const words = what[0] === 'run' && what.length > 1 ? what.slice(1) : what
    return slug([stem, ...words].join('-'))
  }
  return slug(stem)
}

/** Lower case letters, digits, `_` and single dashes, at most 60 characters. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '')
}

/** `base`, or `base-2`, `base-3`… — the first that is not taken; the name is then taken. */
export function uniqueName(base: string, taken: Set<string>): string {
  let name = base
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`
  taken.add(name)
  return name
}
