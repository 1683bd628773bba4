import {describe, expect, it} from 'vitest'
import Serve from '../../src/commands/serve.js'
import {SERVE_OPTIONS, parseServeArgs} from '../../src/host/serve-args.js'

/** `sched serve` is parsed by oclif for --help and by the daemon's own small entry otherwise: the same flags. */
describe('sched serve flags', () => {
  it('the daemon entry accepts exactly the flags the oclif command declares', () => {
    const oclif = Object.entries({...Serve.baseFlags, ...Serve.flags}).map(([name, f]) => [name, (f as {char?: string}).char ?? null])
    const own = Object.entries(SERVE_OPTIONS).map(([name, o]) => [name, 'short' in o ? o.short : null])
    expect(own.sort()).toEqual(oclif.sort())
  })

  it('parses values and refuses bad ones with a usage error', () => {
    expect(parseServeArgs(['-c', 'x.toml', '--port', '0', '--no-api', '--log-format', 'json', '--host', '::1', '--state-dir', 's'])).toEqual({
      config: 'x.toml',
      stateDir: 's',
      host: '::1',
      port: 0,
      noApi: true,
      logFormat: 'json',
    })
    for (const bad of [['--port', '-1'], ['--port', '70000'], ['--port', '1.5'], ['--log-format', 'xml'], ['extra'], ['--nope']]) {
      expect(() => parseServeArgs(bad), bad.join(' ')).toThrow(expect.objectContaining({exit: 2}))
    }
  })
})
