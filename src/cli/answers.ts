import type {ConfigIssue} from '../config/load.js'
import type {ParamProblem} from '../config/parameters.js'
import {CONTROL_ACTIONS, type ControlAnswer} from '../engine/control.js'
import type {ReloadAnswer} from '../engine/daemon.js'
import {REFUSALS, type Refusal, TRIGGER_OUTCOMES, type TriggerAnswer} from '../engine/outcomes.js'
import type {ServiceState} from '../engine/supervisor.js'
import type {NotifyTestAnswer, TestAnswer} from '../notify/notifications.js'
import type {PublicRun} from '../state/run-record.js'

/**
 * The daemon's answers are checked, not cast, when they reach the CLI: they crossed a process
 * boundary (and a daemon of another version may be serving the directory).
 */
export type AnswerCheck<T> = (value: unknown) => value is T

type Fields = Record<string, unknown>

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value)
}

function isListOf<T>(value: unknown, check: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.every(check)
}

const isString = (value: unknown): value is string => typeof value === 'string'
const isMessage = (value: unknown): value is ParamProblem | ConfigIssue => isObject(value) && isString(value.message)

export function isRefusal(value: unknown): value is Refusal {
  return (
    isObject(value) &&
    value.ok === false &&
    isOneOf(REFUSALS, value.refusal) &&
    isString(value.message) &&
    (value.problems === undefined || isListOf(value.problems, isMessage)) &&
    (value.errors === undefined || isListOf(value.errors, isMessage))
  )
}

function isRun(value: unknown): value is PublicRun {
  return isObject(value) && isString(value.id) && isString(value.task_name) && isString(value.status) && isString(value.triggered_by) && isString(value.created_at)
}

function isServiceState(value: unknown): value is ServiceState {
  return isObject(value) && isString(value.status) && isListOf(value.instances, (i): i is ServiceState['instances'][number] => isObject(i) && typeof i.index === 'number' && isString(i.status))
}

export const isTriggerAnswer: AnswerCheck<TriggerAnswer> = (value): value is TriggerAnswer =>
  isRefusal(value) || (isObject(value) && value.ok === true && isOneOf(TRIGGER_OUTCOMES, value.outcome) && isRun(value.run))

export const isControlAnswer: AnswerCheck<ControlAnswer> = (value): value is ControlAnswer =>
  isRefusal(value) ||
  (isObject(value) &&
    value.ok === true &&
    isOneOf(CONTROL_ACTIONS, value.action) &&
    (value.unit === undefined || isString(value.unit)) &&
    (value.runs === undefined || isListOf(value.runs, isString)) &&
    (value.state === undefined || isServiceState(value.state)))

export const isReloadAnswer: AnswerCheck<ReloadAnswer> = (value): value is ReloadAnswer =>
  isRefusal(value) || (isObject(value) && value.ok === true && isListOf(value.added, isString) && isListOf(value.removed, isString) && isListOf(value.changed, isString))

const isStringOrNull = (value: unknown): value is string | null => value === null || isString(value)

function isTestAnswer(value: unknown): value is TestAnswer {
  return (
    isObject(value) &&
    isString(value.notifier) &&
    isString(value.kind) &&
    typeof value.ok === 'boolean' &&
    (value.status === null || typeof value.status === 'number') &&
    isString(value.response) &&
    isStringOrNull(value.error) &&
    typeof value.duration_ms === 'number'
  )
}

export const isNotifyTestAnswer: AnswerCheck<NotifyTestAnswer> = (value): value is NotifyTestAnswer =>
  isRefusal(value) || (isObject(value) && value.ok === true && isTestAnswer(value.result))
