import {createParser} from 'eventsource-parser'
import {ExitCode, SchedError, errorMessage} from '../core/errors.js'
import {liveDaemon} from '../state/claim.js'
import type {StateLayout} from '../state/layout.js'
import {readToken} from '../state/token.js'

/**
 * This node's daemon over its HTTP API, for what the state directory cannot answer: in a cluster
 * a run's log may be on another node, and only the daemon reaches it (it forwards the request).
 * Problems the daemon answers become errors with its own words and the documented exit codes.
 */
export class DaemonApi {
  private constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** The daemon serving this state directory with its API; exit 4 saying why it cannot be used. */
  static connect(layout: StateLayout, purpose: string): DaemonApi {
    const info = liveDaemon(layout)
    if (info?.mode !== 'serve') throw new SchedError(`no daemon is serving ${layout.root}: ${purpose}`, {exit: ExitCode.noDaemon, hint: 'start this node: sched serve'})
    if (!info.url) throw new SchedError(`the daemon (pid ${info.pid}) serving ${layout.root} has no API (--no-api): ${purpose}`, {exit: ExitCode.noDaemon, hint: 'restart it without --no-api'})
    const token = readToken(layout)
    if (!token) throw new SchedError(`cannot read the API token of ${layout.root}: ${purpose}`, {hint: `set SCHED_API_TOKEN, or read ${layout.tokenFile} as its owner`})
    return new DaemonApi(info.url, token)
  }

  async json<T>(path: string): Promise<T> {
    const res = await this.get(path, 'application/json')
    return (await res.json()) as T
  }

  /** Reads a server-sent event stream until the daemon ends it; `onEvent` false stops reading. */
  async events(path: string, onEvent: (event: string, data: string) => boolean | void): Promise<void> {
    const res = await this.get(path, 'text/event-stream')
    let stop = false
    const parser = createParser({onEvent: (e) => (stop ||= onEvent(e.event ?? 'message', e.data) === false)})
    const decoder = new TextDecoder()
    try {
      const reader = res.body!.getReader()
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        parser.feed(decoder.decode(chunk.value, {stream: true}))
        if (stop) {
          await reader.cancel()
          break
        }
      }
    } catch (error) {
      throw new SchedError(`the daemon at ${this.url} broke off ${path}: ${errorMessage(error)}`)
    }
  }

  private async get(path: string, accept: string): Promise<Response> {
    let res: Response
    try {
      res = await fetch(`${this.url}${path}`, {headers: {authorization: `Bearer ${this.token}`, accept}})
    } catch (error) {
      throw new SchedError(`cannot reach the daemon at ${this.url}: ${errorMessage((error as {cause?: unknown}).cause ?? error)}`, {exit: ExitCode.noDaemon, hint: 'check that it is healthy: sched status'})
    }
    if (res.ok) return res
    const problem = (await res.json().catch(() => ({}))) as {detail?: string}
    const detail = problem.detail ?? `HTTP ${res.status}`
    throw new SchedError(detail, {exit: res.status === 404 ? ExitCode.notFound : ExitCode.failure})
  }
}
