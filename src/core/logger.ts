/**
 * The daemon's own log on stderr: one line per event. Text for terminals and journald,
 * JSON lines (`--log-format json`) for log shippers.
 */
export type LogLevel = 'info' | 'warn' | 'error'
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void
  info(event: string, fields?: LogFields): void
  warn(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
}

export type LogFormat = 'text' | 'json'

export function createLogger(format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const log = (level: LogLevel, event: string, fields: LogFields = {}) => {
    const ts = new Date().toISOString()
    if (format === 'json') {
      write(`${JSON.stringify({ts, level, event, ...fields})}\n`)
      return
    }
    let line = `${ts} ${level.padEnd(5)} ${event}`
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue
      const text = String(v)
      line += ` ${k}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`
    }
    write(`${line}\n`)
  }
  return {
    log,
    info: (e, f) => log('info', e, f),
    warn: (e, f) => log('warn', e, f),
    error: (e, f) => log('error', e, f),
  }
}
