import picomatch from 'picomatch'

/**
 * The glob dialect of notification routes (`tasks`, `groups`): `*`, `?`, `[abc]`, `{a,b}`, as in
 * a shell; unit names hold no `/`, and a leading dot is an ordinary character. Compiled
 * matchers are kept: routes are matched on every event.
 */
const compiled = new Map<string, (name: string) => boolean>()

export function matchesGlob(glob: string, name: string): boolean {
  let match = compiled.get(glob)
  if (!match) {
    match = picomatch(glob, {dot: true})
    compiled.set(glob, match)
  }
  return match(name)
}
