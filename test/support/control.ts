import {type ChildProcess, spawn} from 'node:child_process'
import {request} from 'node:http'
import {BIN, ROOT} from './cli.js'
import type {Sandbox} from './sandbox.js'

/** Helpers for the control-surface tests: long-running CLI children, the API, SSE streams. */

export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** A CLI process left running (sched logs -f, trigger --wait): its output so far and its exit. */
export interface LiveCli {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  readonly exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): void
}

export function spawnCli(b: Sandbox, args: readonly string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  const child = spawn(process.execPath, [BIN, ...args, '-c', b.config, '--state-dir', b.state], {
    cwd: ROOT,
    env: {...process.env, NO_COLOR: '1', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any
}

/** One API call with the daemon's token (or `token: null` for none); the body parsed when JSON. */
export async function api(b: Sandbox, method: string, path: string, options: {body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string>} = {}): Promise<ApiResponse> {
  const token = options.token === undefined ? b.daemon!.token : options.token
  const headers: Record<string, string> = {...options.headers}
  if (token !== null) headers.authorization = `Bearer ${token}`
  let payload: string | undefined = options.rawBody
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body)
    headers['content-type'] = 'application/json'
  }
  const res = await fetch(b.daemon!.url + path, {method, headers, body: payload})
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  return {status: res.status, headers: res.headers, text, body: /json/.test(type) && text ? JSON.parse(text) : undefined}
}

/**
 * A request whose path is sent exactly as written (fetch would resolve `..` and `.` segments),
 * for the path-traversal checks.
 */
export function rawRequest(url: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{status: number; type: string | undefined; body: string; headers: Record<string, unknown>}> {
  const {hostname, port} = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({host: hostname, port: Number(port), method, path, headers, timeout: 5000}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, type: res.headers['content-type'], body, headers: res.headers}))
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 5s`)))
    req.on('error', reject)
    req.end()
  })
}

export interface SseEvent {
  readonly event: string
  readonly id?: string
  readonly data: string
}

/** An open SSE response: the events parsed so far, whether the server closed it, and close(). */
export interface SseClient {
  readonly status: number
  readonly headers: Headers
  events(): SseEvent[]
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>
  close(): void
}

export async function openSse(b: Sandbox, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController()
  const res = await fetch(b.daemon!.url + path, {headers: {authorization: `Bearer ${b.daemon!.token}`, ...headers}, signal: abort.signal})
  const events: SseEvent[] = []
  let buffer = ''
  const parse = () => {
    for (let at = buffer.indexOf('\n\n'); at !== -1; at = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, at)
      buffer = buffer.slice(at + 2)
      let event = 'message'
      let id: string | undefined
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'id') id = value
        else if (field === 'data') data.push(value)
      }
      if (data.length) events.push({event, id, data: data.join('\n')})
    }
  }
  const ended = (async () => {
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, {stream: true})
        parse()
      }
    } catch {
      // aborted by close()
    }
  })()
  return {status: res.status, headers: res.headers, events: () => events, ended, close: () => abort.abort()}
}
