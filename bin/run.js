#!/usr/bin/env node
// The daemon runs from its own small bundle (no command framework in a long-lived process);
// `completion --names` (run by the completion scripts at every Tab) from another; every other
// command, and `serve --help`, go through oclif.
const args = process.argv.slice(2)
if (args[0] === 'serve' && !args.some((a) => a === '--help' || a === '-h')) {
  const {main} = await import('../dist/daemon-main.js')
  await main(args.slice(1))
} else if (args[0] === 'completion' && args.some((a) => a === '--names' || a.startsWith('--names='))) {
  // At every Tab of a completion script: the names alone, without loading the CLI.
  const {main} = await import('../dist/completion-main.js')
  main(args.slice(1))
} else {
  const {execute} = await import('../dist/index.js')
  await execute({dir: import.meta.url})
}
