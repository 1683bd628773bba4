import {useState} from 'preact/hooks'
import {ApiError, errorText, post} from '../api.js'
import {runPath} from '../router.js'
import type {ParameterObject, Run} from '../types.js'

type Values = Record<string, string | boolean>

function initialValues(params: readonly ParameterObject[]): Values {
  return Object.fromEntries(params.map((p) => [p.key, p.kind === 'flag' ? p.default === 'true' : p.default]))
}

/** What the form sends: flags as booleans, other fields when filled in (the API applies defaults and checks the rest). */
export function paramsToSend(params: readonly ParameterObject[], values: Values): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {}
  for (const p of params) {
    const v = values[p.key]
    if (p.kind === 'flag') out[p.key] = v === true
    else if (typeof v === 'string' && v !== '') out[p.key] = v
  }
  return out
}

const PARAM_LOCATION = 'body.params.'

/**
 * A run of a task, with its typed `parameters` as a form: choices as selects (a text field with
 * suggestions when `allow_custom`), flags as checkboxes, required ones marked, defaults filled;
 * the API's problem+json errors shown under their fields.
 */
export function TriggerForm(props: {readonly task: string; readonly params: readonly ParameterObject[]; readonly onTriggered: (run: Run) => void}) {
  const [values, setValues] = useState<Values>(() => initialValues(props.params))
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [result, setResult] = useState<{kind: 'ok' | 'error'; text: string; run?: string}>()
  const [busy, setBusy] = useState(false)

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setErrors({})
    setResult(undefined)
    try {
      const run = await post<Run>(`/api/tasks/${encodeURIComponent(props.task)}/run`, {params: paramsToSend(props.params, values)})
      setResult({kind: 'ok', text: `Started run ${run.id}`, run: run.id})
      props.onTriggered(run)
    } catch (error) {
      if (error instanceof ApiError) {
        const byField: Record<string, string> = {}
        const other: string[] = []
        for (const e of error.errors) {
          const key = e.location?.startsWith(PARAM_LOCATION) ? e.location.slice(PARAM_LOCATION.length) : undefined
          if (key !== undefined && props.params.some((p) => p.key === key)) byField[key] = e.message
          else other.push(e.message)
        }
        setErrors(byField)
        const recorded = (error.body.run as Run | undefined)?.id
        setResult({kind: 'error', text: `Not started: ${error.message}${other.length ? ` (${other.join('; ')})` : ''}`, run: recorded})
      } else {
        setResult({kind: 'error', text: errorText(error)})
      }
    } finally {
      setBusy(false)
    }
  }

  const set = (key: string, value: string | boolean) => setValues((v) => ({...v, [key]: value}))
  return (
    <form class="trigger" onSubmit={submit} noValidate>
      {props.params.map((p) => {
        const id = `param-${p.key}`
        const err = errors[p.key]
        const describedBy = [p.description ? `${id}-help` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined
        const common = {id, name: p.key, 'aria-invalid': err ? true : undefined, 'aria-describedby': describedBy}
        return (
          <div class={`field${err ? ' invalid' : ''}`} key={p.key}>
            {p.kind === 'flag' ? (
              <label>
                <input type="checkbox" {...common} checked={values[p.key] === true} onChange={(e) => set(p.key, e.currentTarget.checked)} /> {p.key}
              </label>
            ) : (
              <>
                <label for={id}>
                  {p.key}
                  {p.required && (
                    <span class="required" title="required">
                      {' '}
                      * <span class="visually-hidden">required</span>
                    </span>
                  )}
                  <span class="dim small"> {p.kind}{p.type === 'number' ? ', number' : ''}</span>
                </label>
                {p.choices && !p.allow_custom ? (
                  <select {...common} value={String(values[p.key])} onChange={(e) => set(p.key, e.currentTarget.value)}>
                    {(!p.required || p.default === '') && <option value="">{p.default === '' ? '(none)' : `(default: ${p.default})`}</option>}
                    {p.choices.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                ) : (
                  <>
                    <input type="text" inputMode={p.type === 'number' ? 'decimal' : undefined} list={p.choices ? `${id}-choices` : undefined} {...common} value={String(values[p.key])} onInput={(e) => set(p.key, e.currentTarget.value)} />
                    {p.choices && (
                      <datalist id={`${id}-choices`}>
                        {p.choices.map((c) => (
                          <option key={c} value={c} />
                        ))}
                      </datalist>
                    )}
                  </>
                )}
              </>
            )}
            {p.description && (
              <div id={`${id}-help`} class="dim small">
                {p.description}
              </div>
            )}
            {err && (
              <div id={`${id}-error`} class="field-error">
                {err}
              </div>
            )}
          </div>
        )
      })}
      <button type="submit" disabled={busy}>
        Trigger run
      </button>
      <p class={`result ${result?.kind ?? ''}`} role="status" aria-live="polite">
        {result && (
          <>
            {result.text}
            {result.run && (
              <>
                {' '}
                <a href={runPath(result.run)}>open run</a>
              </>
            )}
          </>
        )}
      </p>
    </form>
  )
}
