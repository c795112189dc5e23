import { Clock, Effect } from "effect"
import { randomFillSync } from "node:crypto"

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds then randomness. Time-ordered ids keep
 * B-tree inserts local and make `id` a sensible tie-break for "newest first" listings.
 */
export const uuidv7 = (millis: number): string => {
  const b = new Uint8Array(16)
  randomFillSync(b)
  let ms = BigInt(Math.max(0, Math.floor(millis)))
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn)
    ms >>= 8n
  }
  b[6] = (b[6]! & 0x0f) | 0x70
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = hex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A fresh UUIDv7 stamped with the Effect `Clock` (so TestClock controls it too). */
export const newId = <A extends string>(): Effect.Effect<A> =>
  Effect.map(Clock.currentTimeMillis, (ms) => uuidv7(ms) as A)
