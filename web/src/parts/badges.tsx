import {serviceLabel} from '../../../src/core/service-label.js'
import {END_REASON_WORDS, outcomeClass, runOutcome} from '../format.js'
import type {Run, UnitState} from '../types.js'

export function Outcome(props: {readonly run: Pick<Run, 'status' | 'end_reason'>}) {
  const text = runOutcome(props.run)
  const words = props.run.end_reason ? END_REASON_WORDS[props.run.end_reason] : props.run.status
  return (
    <span class={`badge ${outcomeClass(props.run.status === 'ended' ? props.run.end_reason : props.run.status)}`} title={words}>
      {text}
    </span>
  )
}

/** A service's "running 2/3" / "backoff" / "FATAL", or a task's idle / running / queued. */
export function UnitStatus(props: {readonly kind: string; readonly state: UnitState | undefined}) {
  if (props.kind === 'service') {
    const {text, tone} = serviceLabel(props.state)
    return <span class={`badge ${{ok: 'ok', warn: 'warn', fail: 'fail', off: 'neutral'}[tone]}`}>{text}</span>
  }
  const status = props.state?.status ?? 'idle'
  const extra = props.state && props.state.queued > 0 ? ` · ${props.state.queued} queued` : ''
  return <span class={`badge ${status === 'idle' ? 'neutral' : 'active'}`}>{status + extra}</span>
}
