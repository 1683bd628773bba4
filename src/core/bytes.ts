/** Byte sizes: "512kb", "10MB", "1.5gb" — 1024-based and case-insensitive — or plain bytes. */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

const SIZE = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/

export const BYTES_EXAMPLES = '"512kb", "10MB", "1.5gb"'

export function parseBytes(text: string): number | undefined {
  const m = SIZE.exec(text.trim().toLowerCase())
  if (!m || !(m[2] in UNITS)) return undefined
  return Math.floor(Number(m[1]) * UNITS[m[2]])
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let i = 0
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  return i === 0 ? `${bytes}B` : `${Math.round(value * 10) / 10}${units[i]}`
}
