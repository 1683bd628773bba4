import {useEffect, useLayoutEffect, useMemo, useRef, useState} from 'preact/hooks'
import {get} from '../api.js'
import {clockTime} from '../format.js'
import type {LogLine, Run} from '../types.js'
import {scrollTopFor, visibleRange} from '../virtual.js'
import {firstErrorLine, searchLines} from '../log-search.js'

const ROW = 20
const OVERSCAN = 30
const PAGE = 10_000

interface LogState {
  readonly lines: LogLine[]
  readonly firstAvailable: number
  readonly truncated: boolean
  readonly phase: 'loading' | 'live' | 'done'
}

/**
 * A run's log: replayed in pages of 10,000 lines when the run has ended, streamed over SSE
 * while it runs; only the rows in view are in the page, so 50,000 lines scroll as smoothly as 50.
 */
export function LogView(props: {readonly run: Run; readonly onDone: () => void}) {
  const {run} = props
  const [log, setLog] = useState<LogState>({lines: [], firstAvailable: 0, truncated: false, phase: 'loading'})
  const [error, setError] = useState<string>()
  // A finished log opens at its top, a live one follows its newest line.
  const [follow, setFollow] = useState(props.run.status !== 'ended')
  const [query, setQuery] = useState('')
  const [match, setMatch] = useState(0)
  const [selected, setSelected] = useState<number>()
  const box = useRef<HTMLDivElement>(null)
  const [view, setView] = useState({top: 0, height: 600})
  const ended = run.status === 'ended'

  useEffect(() => {
    let closed = false
    let source: EventSource | undefined
    if (ended) {
      ;(async () => {
        const lines: LogLine[] = []
        let from = 0
        let first = 0
        let truncated = false
        for (;;) {
          const page = await get<{lines: LogLine[]; first_available: number; total_lines: number; truncated: boolean}>(`/api/runs/${run.id}/log?from=${from}&limit=${PAGE}`)
          if (closed) return
          if (lines.length === 0) first = page.first_available
          truncated ||= page.truncated
          for (const l of page.lines) lines.push(l)
          if (page.lines.length === 0 || lines.length + first >= page.total_lines) break
          from = page.lines.at(-1)!.n + 1
        }
        setLog({lines, firstAvailable: first, truncated, phase: 'done'})
      })().catch((e: Error) => setError(e.message))
    } else {
      // New lines are gathered and shown once per frame, not one render per line.
      let pending: LogLine[] = []
      let frame = 0
      const flush = () => {
        frame = 0
        const add = pending
        pending = []
        setLog((s) => ({...s, lines: s.lines.concat(add), phase: s.phase === 'loading' ? 'live' : s.phase}))
      }
      source = new EventSource(`/api/runs/${run.id}/log/stream?from=0`)
      source.addEventListener('open', () => setLog((s) => (s.phase === 'loading' ? {...s, phase: 'live'} : s)))
      source.addEventListener('line', (e) => {
        pending.push(JSON.parse((e as MessageEvent<string>).data) as LogLine)
        if (!frame) frame = requestAnimationFrame(flush)
      })
      source.addEventListener('done', () => {
        source?.close()
        if (frame) cancelAnimationFrame(frame)
        flush()
        setLog((s) => ({...s, phase: 'done'}))
        props.onDone()
      })
    }
    return () => {
      closed = true
      source?.close()
    }
    // Mounted per run (the page keys it by id): the stream that began live runs on to `done`.
  }, [run.id])

  // Following: the newest line stays in view as lines arrive.
  useLayoutEffect(() => {
    const el = box.current
    if (el && follow) el.scrollTop = el.scrollHeight
  }, [log.lines.length, follow])

  useEffect(() => {
    const el = box.current
    if (!el) return
    const measure = () => setView({top: el.scrollTop, height: el.clientHeight})
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(el)
    return () => observer.disconnect()
  }, [])

  const matches = useMemo(() => searchLines(log.lines, query), [log.lines, query])
  const errorAt = useMemo(() => firstErrorLine(log.lines), [log.lines])

  const jump = (index: number) => {
    setFollow(false)
    setSelected(index)
    const el = box.current
    if (el) el.scrollTop = scrollTopFor(index, ROW, 5)
  }
  const goMatch = (k: number) => {
    if (matches.length === 0) return
    const i = ((k % matches.length) + matches.length) % matches.length
    setMatch(i)
    jump(matches[i])
  }

  const onScroll = () => {
    const el = box.current!
    setView({top: el.scrollTop, height: el.clientHeight})
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < ROW * 2
    if (log.phase !== 'done' && follow !== atBottom) setFollow(atBottom)
  }

  const {start, end} = visibleRange(view.top, view.height, ROW, log.lines.length, OVERSCAN)
  const matchSet = useMemo(() => new Set(matches), [matches])
  const needle = query.toLowerCase()
  const rows = []
  for (let i = start; i < end; i++) {
    const l = log.lines[i]
    rows.push(
      <div key={l.n} class={`line ${l.stream}${i === selected ? ' selected' : ''}${matchSet.has(i) ? ' match' : ''}`}>
        <span class="n">{l.n + 1}</span>
        <span class="ts">{clockTime(l.ts)}</span>
        <span class="stream" title={l.stream}>
          {l.stream === 'stdout' ? 'out' : l.stream === 'stderr' ? 'err' : 'sys'}
        </span>
        <span class="text">{needle && matchSet.has(i) ? highlight(l.text, needle) : l.text}</span>
      </div>,
    )
  }

  return (
    <div class="log">
      <div class="log-tools" role="toolbar" aria-label="Log">
        <span class="count" aria-live="polite">
          {log.phase === 'loading' ? 'loading…' : `${log.lines.length.toLocaleString('en-US')} lines${log.phase === 'live' ? ' · live' : ''}`}
          {log.truncated && <span class="badge warn">older output was dropped (log_max_size)</span>}
        </span>
        {log.phase !== 'done' && (
          <button type="button" aria-pressed={follow} onClick={() => setFollow(!follow)}>
            {follow ? 'Pause' : 'Follow'}
          </button>
        )}
        <label>
          <span class="visually-hidden">Search the log</span>
          <input
            type="search"
            name="log-search"
            placeholder="search the log"
            value={query}
            onInput={(e) => {
              setQuery(e.currentTarget.value)
              setMatch(0)
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') goMatch(e.shiftKey ? match - 1 : query && matches[match] === selected ? match + 1 : match)
            }}
          />
        </label>
        {query && (
          <span class="count">
            {matches.length ? `${match + 1} of ${matches.length}` : 'no match'}
            <button type="button" disabled={!matches.length} onClick={() => goMatch(match - 1)} aria-label="previous match">
              ↑
            </button>
            <button type="button" disabled={!matches.length} onClick={() => goMatch(match + 1)} aria-label="next match">
              ↓
            </button>
          </span>
        )}
        <button type="button" disabled={errorAt === undefined} onClick={() => errorAt !== undefined && jump(errorAt)}>
          First error
        </button>
        <a class="button" href={`/api/runs/${run.id}/log/raw`} download={`${run.task_name}-${run.id}.log`}>
          Download raw
        </a>
      </div>
      {error && <p class="error">{error}</p>}
      <div class="log-box" ref={box} onScroll={onScroll} tabIndex={0} aria-label="log lines" role="log">
        <div class="log-spacer" style={{height: `${log.lines.length * ROW}px`}}>
          <div class="log-rows" style={{transform: `translateY(${start * ROW}px)`}}>
            {rows}
          </div>
        </div>
      </div>
      {log.firstAvailable > 0 && <p class="dim small">Lines before {log.firstAvailable + 1} were dropped by log_max_size.</p>}
    </div>
  )
}

function highlight(text: string, needle: string) {
  const parts = []
  const lower = text.toLowerCase()
  let at = 0
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) {
    parts.push(text.slice(at, i), <mark key={i}>{text.slice(i, i + needle.length)}</mark>)
    at = i + needle.length
  }
  parts.push(text.slice(at))
  return parts
}
