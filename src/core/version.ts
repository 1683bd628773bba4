import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The package version, from the package.json above this file (src/, dist/ or a bundle). */
function packageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return join(dir, 'package.json')
}

export const VERSION: string = (JSON.parse(readFileSync(packageJson(), 'utf8')) as {version: string}).version
