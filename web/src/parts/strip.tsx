import {outcomeClass} from '../format.js'
import {runPath} from '../router.js'
import type {StripRun} from '../types.js'

/** The newest runs of a unit as squares coloured by end reason, oldest left, each a link to its run. */
export function RunStrip(props: {readonly runs: readonly StripRun[]; readonly size: number}) {
  const runs = props.runs.slice(0, props.size).reverse()
  return (
    <span class="strip" aria-label={`last ${runs.length} runs`}>
      {Array.from({length: props.size - runs.length}, (_, i) => (
        <span key={`e${i}`} class="sq none" />
      ))}
      {runs.map((r) => {
        const label = `${r.state === 'active' ? 'active' : r.state} · ${r.triggered_by} · ${r.created_at.slice(0, 19).replace('T', ' ')} UTC`
        return <a key={r.id} class={`sq ${outcomeClass(r.state)}`} href={runPath(r.id)} title={label} aria-label={label} />
      })}
    </span>
  )
}
