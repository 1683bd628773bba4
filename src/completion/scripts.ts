import {END_REASONS, RUN_STATUS, TRIGGER_SOURCES} from '../core/types.js'

/**
 * Shell completion scripts for bash, zsh and fish, generated at build time from the oclif
 * manifest (scripts/write-completions.ts): commands and topics with their summaries, each
 * command's flags, and what its values and arguments are — files, directories, fixed choices,
 * or names sched itself lists fast (`sched completion --names tasks|services|units|runs`:
 * units from the config, run ids from the state directory).
 */

export interface CompletionFlag {
  readonly name: string
  readonly char?: string
  readonly summary: string
  readonly takesValue: boolean
  readonly options?: readonly string[]
}

export interface CompletionCommand {
  /** Words separated by spaces: "import compose". */
  readonly id: string
  readonly summary: string
  readonly args: readonly {readonly name: string; readonly options?: readonly string[]}[]
  readonly flags: readonly CompletionFlag[]
}

/** What completes a value: names sched lists, paths, or fixed choices. */
type Values = {readonly names: 'tasks' | 'services' | 'units' | 'targets'} | {readonly paths: 'files' | 'dirs'} | {readonly choices: readonly string[]} | undefined

const ARG_VALUES: Record<string, Values> = {
  task: {names: 'tasks'},
  service: {names: 'services'},
  target: {names: 'targets'},
  file: {paths: 'files'},
}
const FLAG_VALUES: Record<string, Values> = {
  status: {choices: [...RUN_STATUS, ...END_REASONS]},
  'triggered-by': {choices: TRIGGER_SOURCES},
  config: {paths: 'files'},
  output: {paths: 'files'},
  merge: {paths: 'files'},
  'state-dir': {paths: 'dirs'},
  root: {paths: 'dirs'},
}

function argValues(arg: CompletionCommand['args'][number]): Values {
  return arg.options ? {choices: arg.options} : ARG_VALUES[arg.name]
}

function flagValues(flag: CompletionFlag): Values {
  return flag.options ? {choices: flag.options} : FLAG_VALUES[flag.name]
}

/** Topics (`import`, `service`) and the words that follow them. */
function topics(commands: readonly CompletionCommand[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const c of commands) {
    const words = c.id.split(' ')
    for (let n = 1; n < words.length; n++) {
      const topic = words.slice(0, n).join(' ')
      const next = words[n]
      const list = out.get(topic) ?? []
      if (!list.includes(next)) list.push(next)
      out.set(topic, list)
    }
  }
  return out
}

/** The words that may follow `prefix` ("" for the first), with what they are for. */
function nextWords(commands: readonly CompletionCommand[], prefix: string): [string, string][] {
  const seen = new Map<string, string>()
  for (const c of commands) {
    if (prefix && !c.id.startsWith(`${prefix} `)) continue
    const rest = prefix ? c.id.slice(prefix.length + 1) : c.id
    const word = rest.split(' ')[0]
    if (!seen.has(word)) seen.set(word, rest.includes(' ') ? `${word} commands` : c.summary)
  }
  return [...seen].sort(([a], [b]) => (a < b ? -1 : 1))
}

const sq = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`

// ------------------------------------------------------------------------------------------- bash

export function bashScript(commands: readonly CompletionCommand[]): string {
  const topicNames = [...topics(commands).keys()]
  const out: string[] = [
    '# bash completion for sched, generated from its command manifest.',
    '# Load it now with: source <(sched completion bash)',
    '# or for good:      sched completion bash > ~/.local/share/bash-completion/completions/sched',
    '',
    '# Names sched lists itself, for the config and state directory named on the line.',
    '__sched_names() {',
    '  local -a ctx=()',
    '  local i',
    '  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do',
    '    case ${COMP_WORDS[i]} in',
    '      -c|--config|--state-dir) ctx+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}") ;;',
    '    esac',
    '  done',
    '  "${COMP_WORDS[0]}" completion --names "$1" "${ctx[@]}" 2>/dev/null',
    '}',
    '',
    '__sched_values() {',
    '  case $1 in',
    '    files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;',
    '    dirs) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;',
    '    names:targets) COMPREPLY=($(compgen -W "$(__sched_names units) $(__sched_names runs)" -- "$cur")) ;;',
    '    names:*) COMPREPLY=($(compgen -W "$(__sched_names "${1#names:}")" -- "$cur")) ;;',
    '    choices:*) local choices=${1#choices:}; COMPREPLY=($(compgen -W "${choices//,/ }" -- "$cur")) ;;',
    '  esac',
    '}',
    '',
    '__sched_complete() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}',
    '  local cmd="" i=1 word',
    '  COMPREPLY=()',
    '  # The command is the words that name one: a topic ("import") continues, a command ends it.',
    '  while ((i < COMP_CWORD)); do',
    '    word=${COMP_WORDS[i]}',
    '    case "${cmd:+$cmd }$word" in',
    ...(topicNames.length ? [`      ${topicNames.map(sq).join('|')}) cmd="\${cmd:+$cmd }$word" ;;`] : []),
    `      ${commands.map((c) => sq(c.id)).join('|')}) cmd="\${cmd:+$cmd }$word"; ((i++)); break ;;`,
    '      *) break ;;',
    '    esac',
    '    ((i++))',
    '  done',
    '  case $cmd in',
    `    '') COMPREPLY=($(compgen -W ${sq(nextWords(commands, '').map(([w]) => w).join(' '))} -- "$cur")); return ;;`,
    ...topicNames.map((t) => `    ${sq(t)}) COMPREPLY=($(compgen -W ${sq(nextWords(commands, t).map(([w]) => w).join(' '))} -- "$cur")); return ;;`),
    '  esac',
    '  local flags="" values="" args=""',
    '  case $cmd in',
  ]
  for (const c of commands) {
    const flagWords = c.flags.flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])])
    const valueCases = c.flags
      .filter((f) => f.takesValue)
      .map((f) => `${[`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])].join('|')}) values=${sq(valueWord(flagValues(f)))} ;;`)
    out.push(`    ${sq(c.id)})`)
    out.push(`      flags=${sq(flagWords.join(' '))}`)
    out.push(`      args=${sq(c.args.map((a) => valueWord(argValues(a))).join(' '))}`)
    if (valueCases.length) out.push(`      case $prev in ${valueCases.join(' ')} esac`)
    out.push('      ;;')
  }
  out.push(
    '  esac',
    '  # A flag that takes a value: complete it, or nothing when any value goes.',
    '  if [[ -n $values ]]; then [[ $values != - ]] && __sched_values "$values"; return; fi',
    '  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); return; fi',
    '  # Which argument: count the words after the command that are neither flags nor their values.',
    '  local -a kinds=($args)',
    '  ((${#kinds[@]})) || return',
    '  local n=0 skip=""',
    '  for ((; i < COMP_CWORD; i++)); do',
    '    word=${COMP_WORDS[i]}',
    '    if [[ -n $skip ]]; then skip=""; continue; fi',
    '    if [[ $word == -* ]]; then',
    '      case " ${__sched_value_flags[$cmd]} " in *" $word "*) skip=1 ;; esac',
    '      continue',
    '    fi',
    '    ((n++))',
    '  done',
    '  local kind=${kinds[n]}',
    '  # Past the last argument only more files (sched import crontab --system A B) complete.',
    '  if ((n >= ${#kinds[@]})); then',
    '    kind=${kinds[${#kinds[@]}-1]}',
    '    [[ $kind == files ]] || return',
    '  fi',
    '  [[ $kind != - ]] && __sched_values "$kind"',
    '}',
    '',
    'declare -gA __sched_value_flags=(',
    ...commands.map((c) => `  [${sq(c.id)}]=${sq(c.flags.filter((f) => f.takesValue).flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]).join(' '))}`),
    ')',
    'complete -F __sched_complete sched',
    '',
  )
  return out.join('\n')
}

/** One word for the bash and zsh scripts' value dispatch: files, dirs, names:tasks, choices:a b. */
function valueWord(values: Values): string {
  if (!values) return '-'
  if ('paths' in values) return values.paths
  if ('names' in values) return `names:${values.names}`
  return `choices:${values.choices.join(',')}`
}

// -------------------------------------------------------------------------------------------- zsh

export function zshScript(commands: readonly CompletionCommand[]): string {
  const topicNames = [...topics(commands).keys()]
  const describe = (pairs: [string, string][]) => pairs.map(([w, d]) => sq(`${w}:${d.replaceAll(':', '\\:')}`)).join(' ')
  const out: string[] = [
    '#compdef sched',
    '# zsh completion for sched, generated from its command manifest.',
    '# Load it with: source <(command sched completion zsh)   (after compinit; "command" skips',
    "# zsh's own sched builtin, which this script then turns off)",
    '',
    '__sched_names() {',
    '  local -a ctx',
    '  local i',
    '  for ((i = 2; i < CURRENT; i++)); do',
    '    case ${words[i]} in',
    '      (-c|--config|--state-dir) ctx+=(${words[i]} ${words[i+1]}) ;;',
    '    esac',
    '  done',
    '  command ${words[1]} completion --names $1 $ctx 2>/dev/null',
    '}',
    '',
    '__sched_values() {',
    '  case $1 in',
    '    (files) _files ;;',
    '    (dirs) _files -/ ;;',
    '    (names:targets) compadd -- ${(f)"$(__sched_names units)"} ${(f)"$(__sched_names runs)"} ;;',
    '    (names:*) compadd -- ${(f)"$(__sched_names ${1#names:})"} ;;',
    '    (choices:*) compadd -- ${(s:,:)${1#choices:}} ;;',
    '  esac',
    '}',
    '',
    '__sched_complete() {',
    '  local cmd="" word',
    '  local -i i=2',
    '  while (( i < CURRENT )); do',
    '    word=${words[i]}',
    '    case "${cmd:+$cmd }$word" in',
    ...(topicNames.length ? [`      (${topicNames.map(sq).join('|')}) cmd="\${cmd:+$cmd }$word" ;;`] : []),
    `      (${commands.map((c) => sq(c.id)).join('|')}) cmd="\${cmd:+$cmd }$word"; (( i++ )); break ;;`,
    '      (*) break ;;',
    '    esac',
    '    (( i++ ))',
    '  done',
    '  local -a next',
    '  case $cmd in',
    `    ('') next=(${describe(nextWords(commands, ''))}); _describe -t commands 'sched command' next; return ;;`,
    ...topicNames.map((t) => `    (${sq(t)}) next=(${describe(nextWords(commands, t))}); _describe -t commands ${sq(`sched ${t} command`)} next; return ;;`),
    '  esac',
    '  local prev=${words[CURRENT-1]} cur=${words[CURRENT]} values="" args="" valueflags=""',
    '  local -a flags',
    '  case $cmd in',
  ]
  for (const c of commands) {
    const flagPairs: [string, string][] = c.flags.flatMap((f) => [[`--${f.name}`, f.summary] as [string, string], ...(f.char ? [[`-${f.char}`, f.summary] as [string, string]] : [])])
    const valueCases = c.flags
      .filter((f) => f.takesValue)
      .map((f) => `(${[`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])].join('|')}) values=${sq(valueWord(flagValues(f)))} ;;`)
    out.push(`    (${sq(c.id)})`)
    out.push(`      flags=(${describe(flagPairs)})`)
    out.push(`      args=${sq(c.args.map((a) => valueWord(argValues(a))).join(' '))}`)
    out.push(`      valueflags=${sq(c.flags.filter((f) => f.takesValue).flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]).join(' '))}`)
    if (valueCases.length) out.push(`      case $prev in ${valueCases.join(' ')} esac`)
    out.push('      ;;')
  }
  out.push(
    '  esac',
    '  if [[ -n $values ]]; then [[ $values != - ]] && __sched_values $values; return; fi',
    "  if [[ $cur == -* ]]; then _describe -t flags 'flag' flags; return; fi",
    '  local -a kinds=(${=args})',
    '  (( ${#kinds} )) || return',
    '  local -i n=0',
    '  local skip=""',
    '  for (( ; i < CURRENT; i++ )); do',
    '    word=${words[i]}',
    '    if [[ -n $skip ]]; then skip=""; continue; fi',
    '    if [[ $word == -* ]]; then',
    '      [[ " $valueflags " == *" $word "* ]] && skip=1',
    '      continue',
    '    fi',
    '    (( n++ ))',
    '  done',
    '  local kind=${kinds[n+1]}',
    '  if (( n >= ${#kinds} )); then',
    '    kind=${kinds[-1]}',
    '    [[ $kind == files ]] || return',
    '  fi',
    '  [[ $kind != - ]] && __sched_values $kind',
    '}',
    '',
    '# zsh has a builtin named sched (module zsh/sched) that runs before any command of that name:',
    '# this script is for the sched CLI, so it turns the builtin off.',
    '(( ${+builtins[sched]} )) && disable sched',
    'if [[ ${funcstack[1]} == _sched_cli ]]; then __sched_complete "$@"; else compdef __sched_complete sched; fi',
    '',
  )
  return out.join('\n')
}

// ------------------------------------------------------------------------------------------- fish

export function fishScript(commands: readonly CompletionCommand[]): string {
  const topicNames = [...topics(commands).keys()]
  const fq = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`
  const when = (cmd: string) => fq(`__sched_is ${JSON.stringify(cmd)}`)
  const out: string[] = [
    '# fish completion for sched, generated from its command manifest.',
    '# Load it now with: sched completion fish | source',
    '# or for good:      sched completion fish > ~/.config/fish/completions/sched.fish',
    '',
    `set -g __sched_words ${[...commands.map((c) => c.id), ...topicNames].map(fq).join(' ')}`,
    '',
    '# The command on the line so far: the words that name one ("import compose").',
    'function __sched_command',
    '    set -l tokens (commandline -opc)',
    '    set -l cmd',
    '    for token in $tokens[2..-1]',
    '        set -l next (string trim -- "$cmd $token")',
    '        contains -- $next $__sched_words; or break',
    '        set cmd $next',
    '    end',
    '    echo $cmd',
    'end',
    '',
    'function __sched_is',
    '    set -l cmd (__sched_command)',
    '    test "$cmd" = "$argv[1]"',
    'end',
    '',
    'function ___sched_names',
    '    set -l tokens (commandline -opc)',
    '    set -l ctx',
    '    for i in (seq 2 (math (count $tokens) - 1))',
    '        contains -- $tokens[$i] -c --config --state-dir; and set -a ctx $tokens[$i] $tokens[(math $i + 1)]',
    '    end',
    '    $tokens[1] completion --names $argv[1] $ctx 2>/dev/null',
    'end',
    '',
    'complete -c sched -f',
  ]
  for (const [word, summary] of nextWords(commands, '')) out.push(`complete -c sched -n ${when('')} -a ${fq(word)} -d ${fq(summary)}`)
  for (const t of topicNames) for (const [word, summary] of nextWords(commands, t)) out.push(`complete -c sched -n ${when(t)} -a ${fq(word)} -d ${fq(summary)}`)
  for (const c of commands) {
    for (const f of c.flags) {
      const v = flagValues(f)
      const parts = [`complete -c sched -n ${when(c.id)} -l ${f.name}`]
      if (f.char) parts.push(`-s ${f.char}`)
      if (f.takesValue) parts.push(fishValues(v, true))
      parts.push(`-d ${fq(f.summary)}`)
      out.push(parts.filter(Boolean).join(' '))
    }
    const first = c.args[0]
    if (first) {
      const v = argValues(first)
      if (v) out.push(`complete -c sched -n ${when(c.id)} ${fishValues(v, false)}`)
    }
  }
  out.push('')
  return out.join('\n')
}

function fishValues(values: Values, required: boolean): string {
  const r = required ? '-r ' : ''
  if (!values) return required ? '-r' : ''
  if ('paths' in values) return values.paths === 'files' ? `${r}-F` : `${r}-a '(__fish_complete_directories)'`
  if ('names' in values) {
    const list = values.names === 'targets' ? '(___sched_names units; ___sched_names runs)' : `(___sched_names ${values.names})`
    return `${required ? '-x ' : ''}-a '${list}'`
  }
  return `${required ? '-x ' : ''}-a '${values.choices.join(' ')}'`
}
