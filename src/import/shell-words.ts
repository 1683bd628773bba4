/**
 * Shell words with quotes removed, as sh (and Python's shlex, which supervisord uses) reads
 * them: single quotes keep everything, double quotes and bare text take `\` escapes. With
 * `operators`, a line is also cut into its simple commands at unquoted `&&`, `||`, `;`, `|`,
 * `&`, parentheses, braces and backticks — enough to name a command, not a shell parser.
 */
export function shellWords(line: string, options: {operators?: boolean} = {}): {commands: string[][]; unbalanced: boolean} {
  const commands: string[][] = []
  let words: string[] = []
  let word = ''
  let quoted = false
  let quote = ''
  const endWord = () => {
    if (word || quoted) words.push(word)
    word = ''
    quoted = false
  }
  const endCommand = () => {
    endWord()
    if (words.length) commands.push(words)
    words = []
  }
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === quote) quote = ''
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) word += line[++i]
      else word += c
    } else if (c === "'" || c === '"') {
      quote = c
      quoted = true
    } else if (c === '\\' && i + 1 < line.length) word += line[++i]
    else if (/\s/.test(c)) endWord()
    else if (options.operators && c === '&' && (line[i - 1] === '>' || line[i - 1] === '<')) word += c
    else if (options.operators && '&|;(){}`'.includes(c)) endCommand()
    else word += c
  }
  const unbalanced = quote !== ''
  endCommand()
  return {commands, unbalanced}
}
