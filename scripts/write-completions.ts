/**
 * Build step: the completion scripts of `sched completion bash|zsh|fish`, from the oclif
 * manifest that `oclif manifest` has just written, into dist/completion/.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {type CompletionCommand, bashScript, fishScript, zshScript} from '../src/completion/scripts.js'

interface ManifestFlag {
  type: 'boolean' | 'option'
  char?: string
  summary?: string
  description?: string
  options?: string[]
  hidden?: boolean
}

interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  hidden?: boolean
  args: Record<string, {name: string; options?: string[]; hidden?: boolean}>
  flags: Record<string, ManifestFlag>
}

const root = join(import.meta.dirname, '..')
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const commands: CompletionCommand[] = Object.values(manifest.commands)
  .filter((c) => !c.hidden)
  .sort((a, b) => (a.id < b.id ? -1 : 1))
  .map((c) => ({
    id: c.id.replaceAll(':', ' '),
    summary: c.summary ?? c.description?.split('\n')[0] ?? '',
    args: Object.values(c.args).filter((a) => !a.hidden).map((a) => ({name: a.name, ...(a.options ? {options: a.options} : {})})),
    flags: Object.entries(c.flags)
      .filter(([, f]) => !f.hidden)
      .map(([name, f]) => ({
        name,
        ...(f.char ? {char: f.char} : {}),
        summary: f.summary ?? f.description ?? (name === 'json' ? 'Print the result as JSON.' : ''),
        takesValue: f.type === 'option',
        ...(f.options ? {options: f.options} : {}),
      })),
  }))

const dir = join(root, 'dist', 'completion')
mkdirSync(dir, {recursive: true})
writeFileSync(join(dir, 'sched.bash'), bashScript(commands))
writeFileSync(join(dir, 'sched.zsh'), zshScript(commands))
writeFileSync(join(dir, 'sched.fish'), fishScript(commands))
