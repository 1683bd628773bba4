import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {SchedCommand} from '../cli/base.js'
import {NAME_KINDS, type NameKind, completionNames} from '../completion/names.js'
import {SchedError} from '../core/errors.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const

export default class Completion extends SchedCommand {
  static summary = 'Print a shell completion script for bash, zsh or fish.'
  static description = `The script completes commands, their flags, files and directories where a path is expected, task and service names from the config, and run ids from the state directory. It asks sched for those names (a quick "sched completion --names …") each time, so they follow the config.

bash: source <(sched completion bash), or save it as ~/.local/share/bash-completion/completions/sched.
zsh: source <(command sched completion zsh) after compinit. zsh has a builtin named sched that runs before this command (hence "command"); the script turns it off.
fish: sched completion fish | source, or save it as ~/.config/fish/completions/sched.fish.`
  static examples = [
    {command: 'source <(<%= config.bin %> completion bash)', description: 'bash, for this shell.'},
    {command: "echo 'source <(command sched completion zsh)' >> ~/.zshrc", description: 'zsh, for good (after compinit).'},
    {command: '<%= config.bin %> completion fish > ~/.config/fish/completions/sched.fish', description: 'fish, for good.'},
  ]

  static args = {
    shell: Args.string({options: [...SHELLS], description: 'The shell: bash, zsh or fish.'}),
  }

  static flags = {
    names: Flags.string({
      summary: 'For the scripts: print task, service or unit names from the config, or run ids from the state directory, one a line.',
      options: [...NAME_KINDS],
      hidden: true,
    }),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Completion)
    if (flags.names) {
      const names = completionNames(flags.names as NameKind, {config: flags.config, stateDir: flags['state-dir']})
      if (names.length) process.stdout.write(`${names.join('\n')}\n`)
      return
    }
    if (!args.shell) throw new SchedError('name the shell: sched completion bash, zsh or fish', {exit: 2})
    const file = join(this.config.root, 'dist', 'completion', `sched.${args.shell}`)
    try {
      process.stdout.write(readFileSync(file, 'utf8'))
    } catch {
      throw new SchedError(`${file} is missing: the completion scripts are made by the build`, {hint: 'run npm run build'})
    }
  }
}
