import {randomBytes} from 'node:crypto'

/**
 * ULIDs: 48-bit millisecond time + 80 random bits in Crockford base32. They sort by creation
 * time as strings, which makes "newest runs" a sorted directory listing. Ids made in the same
 * millisecond increment the random part so they stay in creation order.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/

let lastTime = -1
let lastRandom: number[] = []

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    increment(lastRandom)
  } else {
    lastTime = now
    const bytes = randomBytes(16)
    lastRandom = Array.from({length: 16}, (_, i) => bytes[i] & 31)
  }
  let time = ''
  let t = lastTime
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  return time + lastRandom.map((d) => ALPHABET[d]).join('')
}

function increment(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] < 31) {
      digits[i]++
      return
    }
    digits[i] = 0
  }
}

/** The creation time encoded in a ULID. */
export function ulidTime(id: string): number {
  let t = 0
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(id[i])
  return t
}
