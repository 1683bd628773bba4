import {durationBars} from '../chart.js'
import {durationMs, isFailure} from '../format.js'
import {runPath} from '../router.js'
import type {Run} from '../types.js'

const W = 600
const H = 120

/** Durations of the newest finished runs, oldest left; failures red. Each bar links to its run. */
export function DurationChart(props: {readonly runs: readonly Run[]}) {
  const {bars, maxMs} = durationBars(
    props.runs.map((r) => ({id: r.id, duration_ms: r.duration_ms, failed: isFailure(r.end_reason)})),
    W,
    H,
  )
  if (bars.length === 0) return <p class="dim">No finished run with a duration yet.</p>
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`Durations of the last ${bars.length} runs; the longest took ${durationMs(maxMs)}`}>
        {bars.map((b) => (
          <a key={b.id} href={runPath(b.id)}>
            <rect class={b.failed ? 'bar fail' : 'bar ok'} x={b.x} y={H - b.height} width={b.width} height={b.height}>
              <title>{`${b.id}: ${durationMs(b.durationMs)}${b.failed ? ' (failed)' : ''}`}</title>
            </rect>
          </a>
        ))}
      </svg>
      <figcaption class="dim small">
        Last {bars.length} runs, oldest left · longest {durationMs(maxMs)} · <span class="key ok">success</span> <span class="key fail">failure</span>
      </figcaption>
    </figure>
  )
}
