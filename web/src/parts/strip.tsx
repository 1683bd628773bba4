import {outcomeClass} from '../format.js'
import {navigate, runPath} from '../router.js'
import type {StripRun} from '../types.js'

/**
 * The newest runs of a unit as squares coloured by end reason, oldest left. Squares are not
 * links: a thousand rows would be twenty thousand tab stops and elements to lay out; a click
 * on one opens its run, and the keyboard reaches runs through the unit's page.
 */
export function RunStrip(props: {readonly runs: readonly StripRun[]; readonly size: number}) {
  const runs = props.runs.slice(0, props.size).reverse()
  const summary = runs.map((r) => r.state).join(', ')
  return (
    <span class="strip" role="img" aria-label={runs.length ? `last ${runs.length} runs, oldest first: ${summary}` : 'no runs yet'} onClick={openRun}>
      {Array.from({length: props.size - runs.length}, (_, i) => (
        <i key={`e${i}`} class="sq none" />
      ))}
      {runs.map((r) => (
        <i key={r.id} class={`sq ${outcomeClass(r.state)}`} data-run={r.id} title={`${r.state} · ${r.triggered_by} · ${r.created_at.slice(0, 19).replace('T', ' ')} UTC`} />
      ))}
    </span>
  )
}

function openRun(event: MouseEvent): void {
  const id = (event.target as HTMLElement).dataset?.run
  if (id) navigate(runPath(id))
}
