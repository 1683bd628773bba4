import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach} from 'vitest'

export const ROOT = join(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built CLI (npm test builds first) and collects its output. */
export function runCli(args: readonly string[], options: {env?: NodeJS.ProcessEnv; cwd?: string; input?: string} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: {...process.env, NO_COLOR: '1', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
    child.stdin.end(options.input ?? '')
  })
}

export function tempDir(prefix = 'sched-test-'): {path: string; cleanup(): void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}

/**
 * For a test file whose temp directories need no other teardown: the returned function makes
 * one (its path), removed after the test that made it. Call once at the file's top level.
 */
export function tempDirsPerTest(): (prefix?: string) => string {
  const made: {cleanup(): void}[] = []
  afterEach(() => {
    for (const dir of made.splice(0)) dir.cleanup()
  })
  return (prefix) => {
    const dir = tempDir(prefix)
    made.push(dir)
    return dir.path
  }
}

export interface Daemon {
  readonly child: ChildProcess
  readonly url: string
  readonly token: string
  readonly stateDir: string
  stderr(): string
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `sched serve --port 0` (of this checkout, or the `bin` given) and waits until it announces its URL. */
export async function startDaemon(config: string, stateDir: string, extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}, bin = BIN): Promise<Daemon> {
  const child = spawn(process.execPath, [bin, 'serve', '-c', config, '--state-dir', stateDir, '--port', '0', ...extraArgs], {
    cwd: ROOT,
    env: {...process.env, NO_COLOR: '1', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${stderr}`)), 15_000)
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
      const m = /sched serving (http:\/\/\S+)/.exec(stderr)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`daemon exited with ${code} before serving:\n${stderr}`))
    })
  })
  const token = env.SCHED_API_TOKEN ?? readFileSync(join(stateDir, 'api-token'), 'utf8').trim()
  return {
    child,
    url,
    token,
    stateDir,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
