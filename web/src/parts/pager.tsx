/**
 * Newer/Older over a newest-first list paged by `before` cursors (/api/runs, /api/notifications):
 * `cursors` are the `before` values of the pages before this one, so Newer goes back one.
 */
export function Pager(props: {readonly cursors: readonly string[]; readonly next: string | null | undefined; readonly onCursors: (cursors: readonly string[]) => void}) {
  const {cursors, next, onCursors} = props
  return (
    <>
      <button type="button" disabled={cursors.length === 0} onClick={() => onCursors(cursors.slice(0, -1))}>
        Newer
      </button>
      <button type="button" disabled={!next} onClick={() => next && onCursors([...cursors, next])}>
        Older
      </button>
    </>
  )
}
