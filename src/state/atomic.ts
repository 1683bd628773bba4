import {closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFile, writeSync} from 'node:fs'
import {open, rename, unlink} from 'node:fs/promises'
import {promisify} from 'node:util'

const writeFileCb = promisify(writeFile)

let counter = 0

function tempPath(path: string): string {
  return `${path}.${process.pid}.${(counter++).toString(36)}.tmp`
}

/** Writes a file so a reader sees the old or the new content, never a torn one: temp file, fsync, rename. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  const temp = tempPath(path)
  const fd = openSync(temp, 'w', mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    unlinkSafe(temp)
    throw error
  }
  closeSync(fd)
  try {
    renameSync(temp, path)
  } catch (error) {
    unlinkSafe(temp)
    throw error
  }
}

/**
 * The same, off the event loop: the daemon never blocks on an fsync. `durable: false` skips the
 * fsync: still never torn, and it survives the daemon's own crash, but a power loss may bring
 * back the previous content — only for state that something durable can rebuild.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, {durable = true} = {}): Promise<void> {
  const temp = tempPath(path)
  try {
    if (durable) await writeSynced(temp, data, mode)
    // One request for open, write and close: the cheapest way for the event loop.
    else await writeFileCb(temp, data, {mode})
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

async function writeSynced(temp: string, data: string | Uint8Array, mode: number): Promise<void> {
  const handle = await open(temp, 'w', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
