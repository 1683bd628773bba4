import {Chalk, type ChalkInstance} from 'chalk'

/**
 * Colour only for people: off when the stream is not a TTY, when NO_COLOR is set (chalk itself
 * ignores it), and in --json mode.
 */
export function colourFor(stream: NodeJS.WriteStream, json = false, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const on = !json && stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb'
  return new Chalk({level: on ? 1 : 0})
}
