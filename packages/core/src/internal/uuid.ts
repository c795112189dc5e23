import { Clock, Effect } from "effect"
import { randomFillSync } from "node:crypto"

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

let lastMillis = -1
let sequence = 0

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit sequence, then randomness.
 * Within one process ids are strictly increasing (the sequence counts ids made in the same
 * millisecond, RFC 9562 §6.2 method 1), so "order by (time, id)" is creation order — history
 * rows written in one millisecond keep their order. Time-ordered ids also keep B-tree inserts local.
 */
export const uuidv7 = (millis: number): string => {
  let ms = Math.max(0, Math.floor(millis))
  if (ms <= lastMillis) {
    ms = lastMillis
    sequence++
    if (sequence > 0xfff) {
      ms = lastMillis + 1
      sequence = 0
    }
  } else {
    sequence = 0
  }
  lastMillis = ms
  const b = new Uint8Array(16)
  randomFillSync(b)
  let t = BigInt(ms)
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(t & 0xffn)
    t >>= 8n
  }
  b[6] = 0x70 | (sequence >> 8)
  b[7] = sequence & 0xff
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = hex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A fresh UUIDv7 stamped with the Effect `Clock` (so TestClock controls it too). */
export const newId = <A extends string>(): Effect.Effect<A> =>
  Effect.map(Clock.currentTimeMillis, (ms) => uuidv7(ms) as A)
