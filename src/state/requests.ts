import {type FSWatcher, mkdirSync, readFileSync, readdirSync, unlinkSync, watch} from 'node:fs'
import {join} from 'node:path'
import type {SuppliedParams} from '../config/parameters.js'
import {ulid} from '../core/ulid.js'
import {writeFileAtomicSync} from './atomic.js'
import {STATE_FORMAT} from './json-file.js'
import type {StateLayout} from './layout.js'

/**
 * CLI → daemon messages through the state directory, so `sched trigger` needs no HTTP and no
 * token: the CLI writes `requests/<id>.request.json`, the daemon (watching the folder) applies
 * it through the same engine calls as the API and writes `<id>.response.json` back.
 */
export type DaemonRequest =
  | {readonly type: 'trigger'; readonly unit: string; readonly params: SuppliedParams}
  | {readonly type: 'stop'; readonly target: string}
  | {readonly type: 'start' | 'restart'; readonly unit: string}
  | {readonly type: 'reload'}
  | {readonly type: 'notify-test'; readonly notifier: string}

export type RequestEnvelope = DaemonRequest & {readonly v: number; readonly id: string; readonly created_at: string}

/** The daemon's answer to one request: the engine's own answer (src/engine/outcomes.ts), as data. */
export interface DaemonResponse {
  readonly v: number
  readonly id: string
  /** Checked by the CLI before use (src/cli/answers.ts): it crossed a process boundary. */
  readonly answer: unknown
}

const REQUEST = '.request.json'
const RESPONSE = '.response.json'

export function writeRequest(layout: StateLayout, request: DaemonRequest): string {
  mkdirSync(layout.requestsDir, {recursive: true, mode: 0o700})
  const id = ulid()
  const envelope: RequestEnvelope = {...request, v: STATE_FORMAT, id, created_at: new Date().toISOString()}
  writeFileAtomicSync(join(layout.requestsDir, id + REQUEST), JSON.stringify(envelope))
  return id
}

/**
 * Waits for the daemon's answer (a watch on the folder, with a short poll as a safety net) and
 * returns it unchecked: it came from another process. Undefined when none came in time.
 */
export function awaitResponse(layout: StateLayout, id: string, timeoutMs: number): Promise<{readonly answer: unknown} | undefined> {
  const path = join(layout.requestsDir, id + RESPONSE)
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined
    const finish = (response: {readonly answer: unknown} | undefined) => {
      clearInterval(poll)
      clearTimeout(timer)
      watcher?.close()
      resolve(response)
    }
    const check = () => {
      let text: string
      try {
        text = readFileSync(path, 'utf8')
      } catch {
        return
      }
      try {
        unlinkSync(path)
      } catch {
        // the daemon's cleanup got there first
      }
      let envelope: unknown
      try {
        envelope = JSON.parse(text)
      } catch {
        envelope = undefined
      }
      finish({answer: typeof envelope === 'object' && envelope !== null && 'answer' in envelope ? envelope.answer : undefined})
    }
    const poll = setInterval(check, 25)
    const timer = setTimeout(() => {
      // Take the request back so a daemon that comes up later does not act on a stale one.
      try {
        unlinkSync(join(layout.requestsDir, id + REQUEST))
      } catch {
        // already taken
      }
      check()
      finish(undefined)
    }, timeoutMs)
    try {
      watcher = watch(layout.requestsDir, (_event, file) => {
        if (file === id + RESPONSE) check()
      })
      watcher.on('error', () => {})
    } catch {
      // the poll still works
    }
    check()
  })
}

/** The daemon's side: every request file is read once, removed, handled, and answered. */
export class RequestWatcher {
  private watcher?: FSWatcher
  private poll?: NodeJS.Timeout
  private readonly seen = new Set<string>()
  private stopped = false

  constructor(
    private readonly layout: StateLayout,
    private readonly handle: (request: RequestEnvelope) => Promise<object>,
    private readonly onError: (message: string) => void,
  ) {}

  start(): void {
    mkdirSync(this.layout.requestsDir, {recursive: true, mode: 0o700})
    this.cleanup()
    try {
      this.watcher = watch(this.layout.requestsDir, () => this.scan())
      this.watcher.on('error', () => {})
    } catch (error) {
      this.onError(`cannot watch ${this.layout.requestsDir}: ${(error as Error).message}; polling`)
    }
    this.poll = setInterval(() => this.scan(), 250)
    this.poll.unref()
    this.scan()
  }

  stop(): void {
    this.stopped = true
    this.watcher?.close()
    clearInterval(this.poll)
  }

  private scan(): void {
    if (this.stopped) return
    let files: string[]
    try {
      files = readdirSync(this.layout.requestsDir)
    } catch {
      return
    }
    for (const file of files.sort()) {
      if (!file.endsWith(REQUEST) || this.seen.has(file)) continue
      this.seen.add(file)
      void this.process(file).finally(() => this.seen.delete(file))
    }
  }

  private async process(file: string): Promise<void> {
    const path = join(this.layout.requestsDir, file)
    let request: RequestEnvelope
    try {
      request = JSON.parse(readFileSync(path, 'utf8')) as RequestEnvelope
      unlinkSync(path)
    } catch {
      return
    }
    let answer: object
    try {
      answer = await this.handle(request)
    } catch (error) {
      this.onError(`request ${request.id} (${request.type}) failed: ${(error as Error).message}`)
      answer = {ok: false, refusal: 'conflict', message: `the daemon failed to handle the request: ${(error as Error).message}`}
    }
    try {
      const response: DaemonResponse = {v: STATE_FORMAT, id: request.id, answer}
      writeFileAtomicSync(join(this.layout.requestsDir, request.id + RESPONSE), JSON.stringify(response))
    } catch (error) {
      this.onError(`cannot answer request ${request.id}: ${(error as Error).message}`)
    }
  }

  /** Answers nobody collected (the CLI gave up) are removed when the daemon starts. */
  private cleanup(): void {
    for (const file of readdirSync(this.layout.requestsDir)) {
      if (file.endsWith(RESPONSE) || file.endsWith('.tmp')) {
        try {
          unlinkSync(join(this.layout.requestsDir, file))
        } catch {
          // gone
        }
      }
    }
  }
}
