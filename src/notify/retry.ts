/**
 * When to try a message again (SPEC §14 delivery), a pure decision over one attempt's result:
 * backoff 5 s, 10 s, 20 s … capped at 5 min, or longer when the remote asks (429 Retry-After);
 * never past the message's deadline, but one last attempt at it.
 */
export const FIRST_RETRY_MS = 5000
export const MAX_RETRY_MS = 5 * 60_000

export interface AttemptFacts {
  readonly ok: boolean
  readonly permanent: boolean
  readonly retryAfterMs?: number
  readonly error?: string
}

export type NextStep = {readonly action: 'done'} | {readonly action: 'retry'; readonly at: number} | {readonly action: 'give_up'; readonly reason: string}

/** The wait after the n-th failed attempt (n ≥ 1). */
export function backoffMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1))
}

export function nextStep(result: AttemptFacts, failures: number, now: number, deadline: number): NextStep {
  if (result.ok) return {action: 'done'}
  const error = result.error ?? 'failed'
  if (result.permanent) return {action: 'give_up', reason: `${error} (not retried)`}
  if (now >= deadline) return {action: 'give_up', reason: `${error} (deadline reached after ${failures} attempt${failures === 1 ? '' : 's'})`}
  const asked = result.retryAfterMs
  if (asked !== undefined && now + asked > deadline) return {action: 'give_up', reason: `${error} (the remote asked to wait ${Math.ceil(asked / 1000)}s, past the deadline)`}
  return {action: 'retry', at: Math.min(deadline, now + Math.max(backoffMs(failures), asked ?? 0))}
}
