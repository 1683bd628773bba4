import {createRequire} from 'node:module'
import {parse, TomlError} from 'smol-toml'

/**
 * TOML for sched.toml. smol-toml parses (fast: ~20 ms for a 1000-unit file); when an error needs
 * a position, the same text is parsed once more with the `toml` package's grammar, whose syntax
 * tree keeps the offset of every key and value. Only the error path pays for the second parse.
 */

export type Path = readonly (string | number)[]

export interface Position {
  readonly line: number
  readonly column: number
}

export class TomlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message)
  }
}

export interface TomlDocument {
  readonly value: Record<string, unknown>
  /** Where `path` is written: the key of a key/value, the header of a table, an array element. */
  locate(path: Path): Position
}

export function parseToml(text: string): TomlDocument {
  let value: Record<string, unknown>
  try {
    value = parse(text) as Record<string, unknown>
  } catch (error) {
    if (error instanceof TomlError) {
      throw new TomlSyntaxError(firstLine(error.message), error.line, error.column)
    }
    throw error
  }
  let index: Map<string, number> | undefined
  let lineStarts: number[] | undefined
  return {
    value,
    locate(path) {
      index ??= buildIndex(text)
      lineStarts ??= computeLineStarts(text)
      for (let n = path.length; n > 0; n--) {
        const offset = index.get(pathKey(path.slice(0, n)))
        if (offset !== undefined) return positionOf(offset, lineStarts)
      }
      return {line: 1, column: 1}
    },
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/^Invalid TOML document: /, '')
}

function pathKey(path: Path): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${JSON.stringify(p)}`)).join('')
}

function computeLineStarts(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function positionOf(offset: number, starts: number[]): Position {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= offset) lo = mid
    else hi = mid - 1
  }
  return {line: lo + 1, column: offset - starts[lo] + 1}
}

interface AstNode {
  type: string
  offset: number
  key?: string[]
  value: unknown
}

const require = createRequire(import.meta.url)

function buildIndex(text: string): Map<string, number> {
  const index = new Map<string, number>()
  let nodes: AstNode[]
  try {
    nodes = (require('toml/lib/parser.js') as {parse(text: string): AstNode[]}).parse(text)
  } catch {
    return index
  }
  const record = (path: Path, offset: number) => {
    for (let n = 1; n <= path.length; n++) {
      const key = pathKey(path.slice(0, n))
      if (!index.has(key)) index.set(key, offset)
    }
  }
  const arrayCounts = new Map<string, number>()
  let table: Path = []
  for (const node of nodes) {
    if (node.type === 'ObjectPath') {
      table = node.value as string[]
      record(table, node.offset)
    } else if (node.type === 'ArrayPath') {
      const base = node.value as string[]
      const key = pathKey(base)
      const i = arrayCounts.get(key) ?? 0
      arrayCounts.set(key, i + 1)
      table = [...base, i]
      record(table, node.offset)
    } else if (node.type === 'Assign') {
      const path = [...table, ...node.key!]
      record(path, node.offset)
      indexValue(path, node.value as AstNode, index, record)
    }
  }
  return index
}

function indexValue(path: Path, node: AstNode, index: Map<string, number>, record: (p: Path, o: number) => void): void {
  if (node.type === 'Array') {
    ;(node.value as AstNode[]).forEach((element, i) => {
      const p = [...path, i]
      index.set(pathKey(p), element.offset)
      indexValue(p, element, index, record)
    })
  } else if (node.type === 'InlineTable') {
    for (const entry of node.value as AstNode[]) {
      const p = [...path, ...entry.key!]
      record(p, entry.offset)
      indexValue(p, entry.value as AstNode, index, record)
    }
  }
}
