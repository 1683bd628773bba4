import {type IncomingHttpHeaders, type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {type ParsedMail, simpleParser} from 'mailparser'
import {SMTPServer} from 'smtp-server'
import {until} from './sandbox.js'

/**
 * Real servers standing in for the platforms notifications go to (never mocks of the clients):
 * one HTTP server that records every request and answers at each platform's paths the way that
 * platform does, and an SMTP server receiving the e-mails.
 */

export interface Answer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Never answer (the connection stays open until the server closes). */
  readonly hang?: boolean
}

export interface Recorded {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** The parsed JSON body (every platform here takes JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any
  readonly at: number
  /** What the server answered (undefined while it hangs). */
  status?: number
}

/** What each platform answers to a good request. */
function platformAnswer(path: string, json: {topic?: string; message?: string}): Answer {
  if (path.startsWith('/slack/')) return {status: 200, headers: {'content-type': 'text/plain'}, body: 'ok'}
  if (path.startsWith('/discord/')) return {status: 204}
  if (/^\/bot[^/]+\/sendMessage$/.test(path)) return {status: 200, headers: {'content-type': 'application/json'}, body: JSON.stringify({ok: true, result: {message_id: 1, chat: {id: -100}, date: 0}})}
  if (path === '/') return {status: 200, headers: {'content-type': 'application/json'}, body: JSON.stringify({id: 'n1', time: 0, event: 'message', topic: json.topic, message: json.message})}
  return {status: 200, headers: {'content-type': 'text/plain'}, body: 'received'}
}

export class Recorder {
  readonly requests: Recorded[] = []
  private readonly scripts: {prefix: string; answers: Answer[]}[] = []
  private server?: Server
  private readonly hanging = new Set<() => void>()
  url = ''

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (d: string) => (body += d))
      req.on('end', () => {
        const path = req.url ?? '/'
        let json: unknown
        try {
          json = JSON.parse(body)
        } catch {
          json = undefined
        }
        const rec: Recorded = {path, headers: req.headers, body, json, at: Date.now()}
        this.requests.push(rec)
        const script = this.scripts.find((s) => path.startsWith(s.prefix) && s.answers.length > 0)
        const answer = script?.answers.shift() ?? platformAnswer(path, (json ?? {}) as {topic?: string})
        if (answer.hang) {
          this.hanging.add(() => res.destroy())
          return
        }
        rec.status = answer.status
        res.writeHead(answer.status, answer.headers)
        res.end(answer.body ?? '')
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  /** The next requests under `prefix` get these answers, in order; then the platform's usual one. */
  script(prefix: string, ...answers: Answer[]): void {
    this.scripts.push({prefix, answers})
  }

  at(prefix: string): Recorded[] {
    return this.requests.filter((r) => r.path.startsWith(prefix))
  }

  /** Requests under `prefix` the server answered 2xx. */
  delivered(prefix: string): Recorded[] {
    return this.at(prefix).filter((r) => r.status !== undefined && r.status < 300)
  }

  async waitFor(prefix: string, n: number, timeoutMs = 60_000, delivered = true): Promise<Recorded[]> {
    return until(() => {
      const got = delivered ? this.delivered(prefix) : this.at(prefix)
      return got.length >= n ? got : undefined
    }, timeoutMs, `${n} request(s) at ${prefix}`)
  }

  async stop(): Promise<void> {
    for (const close of this.hanging) close()
    const server = this.server
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}

/** An SMTP server in the test process; `password` set = AUTH required with it. */
export class MailServer {
  readonly mails: ParsedMail[] = []
  readonly logins: {user: string; ok: boolean}[] = []
  private server?: SMTPServer
  port = 0

  constructor(private readonly auth?: {user: string; password: string}) {}

  async start(): Promise<this> {
    const auth = this.auth
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !auth,
      allowInsecureAuth: true,
      logger: false,
      onAuth: (a, _session, cb) => {
        const ok = !!auth && a.username === auth.user && a.password === auth.password
        this.logins.push({user: a.username ?? '', ok})
        if (ok) cb(null, {user: a.username})
        else cb(Object.assign(new Error('Invalid username or password'), {responseCode: 535}))
      },
      onData: (stream, _session, cb) => {
        simpleParser(stream)
          .then((mail) => {
            this.mails.push(mail)
            cb()
          })
          .catch(cb)
      },
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()))
    this.port = (this.server.server.address() as AddressInfo).port
    return this
  }

  async waitFor(n: number, timeoutMs = 60_000): Promise<ParsedMail[]> {
    return until(() => (this.mails.length >= n ? this.mails : undefined), timeoutMs, `${n} e-mail(s)`)
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }
}
