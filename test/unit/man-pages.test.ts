import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

/**
 * Every command has a man page, and every flag of every command appears in it. A new command
 * or flag without documentation fails here.
 */
const root = join(import.meta.dirname, '..', '..')
const commandsDir = join(root, 'src', 'commands')

interface FlagDef {
  char?: string
}

interface CommandClass {
  flags?: Record<string, FlagDef>
  baseFlags?: Record<string, FlagDef>
  enableJsonFlag?: boolean
}

function commandFiles(dir: string, prefix: string[] = []): {id: string[]; file: string}[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) =>
    entry.isDirectory()
      ? commandFiles(join(dir, entry.name), [...prefix, entry.name])
      : entry.name.endsWith('.ts')
        ? [{id: [...prefix, entry.name.replace(/\.ts$/, '')], file: join(dir, entry.name)}]
        : [],
  )
}

function roffText(page: string): string {
  // roff escapes dashes; compare against the plain text a reader sees.
  return page.replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '')
}

/** The flag as a word of its own: not part of a longer flag or word on either side. */
function wholeFlag(flag: string): RegExp {
  return new RegExp(`(?<![\\w-])${flag}(?![\\w-])`)
}

const commands = commandFiles(commandsDir)
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {man: string[]}

describe('man pages', () => {
  it('finds the commands', () => {
    expect(commands.map((c) => c.id.join(' '))).toContain('serve')
  })

  it.each(commands.map((c) => [c.id.join(' '), c] as const))('sched %s has a page naming every flag', async (_name, c) => {
    const pagePath = join(root, 'man', `sched-${c.id.join('-')}.1`)
    const page = roffText(readFileSync(pagePath, 'utf8'))
    expect(page).toMatch(/\.SH NAME/)
    expect(page).toMatch(/\.SH SYNOPSIS/)
    expect(page).toMatch(/\.SH EXAMPLES/)
    const cls = ((await import(c.file)) as {default: CommandClass}).default
    const flags: Record<string, FlagDef> = {...cls.baseFlags, ...cls.flags, ...(cls.enableJsonFlag ? {json: {}} : {})}
    for (const [name, def] of Object.entries(flags)) {
      // Whole flags: `--state` inside `--state-dir` does not document --state.
      expect(page, `--${name} missing from ${pagePath}`).toMatch(wholeFlag(`--${name}`))
      if (def.char) expect(page, `-${def.char} missing from ${pagePath}`).toMatch(wholeFlag(`-${def.char}`))
    }
  })

  it('every command file is registered in src/index.ts (the bundle oclif loads)', async () => {
    const {COMMANDS} = (await import('../../src/index.js')) as {COMMANDS: Record<string, unknown>}
    expect(Object.keys(COMMANDS).sort()).toEqual(commands.map((c) => c.id.join(':')).sort())
  })

  it('sched(1) names every command and package.json lists every page', () => {
    const overview = roffText(readFileSync(join(root, 'man', 'sched.1'), 'utf8'))
    for (const c of commands) expect(overview).toContain(`sched-${c.id.join('-')}`)
    const pages = readdirSync(join(root, 'man')).map((f) => `man/${f}`).sort()
    expect([...pkg.man].sort()).toEqual(pages)
  })
})
