import {closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {open, rename, unlink} from 'node:fs/promises'

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

/** The same, off the event loop: the daemon never blocks on an fsync. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = tempPath(path)
  const handle = await open(temp, 'w', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(temp).catch(() => {})
    throw error
  }
  await handle.close()
  try {
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
