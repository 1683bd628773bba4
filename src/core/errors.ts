/** Exit codes of every sched command (SPEC §9). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  noDaemon: 4,
  busy: 5,
} as const

/**
 * An error meant for the user: what was wrong, and what to do next. Library code throws it;
 * only the command layer turns it into an exit code.
 */
export class SchedError extends Error {
  readonly exit: number
  readonly hint?: string
  /** Data a `--json` caller receives with the error (e.g. the run recorded as skipped). */
  readonly details?: Readonly<Record<string, unknown>>

  constructor(message: string, options: {exit?: number; hint?: string; cause?: unknown; details?: Record<string, unknown>} = {}) {
    super(message, {cause: options.cause})
    this.name = 'SchedError'
    this.exit = options.exit ?? ExitCode.failure
    this.hint = options.hint
    this.details = options.details
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
