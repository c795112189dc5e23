/**
 * The sessions an ingester last wrote, with the row version it wrote: a bounded map. A hit lets
 * the next interim of that session skip the locking read — its UPDATE carries
 * `WHERE version = <cached>` instead, and a mismatch (another instance, a stale sweep, a NAS
 * restart close) evicts the entry and sends the batch back through the lock. So the cache can only
 * ever save work, never change a count.
 *
 * @internal
 */
import type { AccountingSession } from "@isp-framework/core"

/** A session as committed by this process, its row version, and the customer stored with it. */
export interface Known {
  readonly session: AccountingSession
  readonly version: number
  readonly customerId: string | null
}

export interface SessionCache {
  readonly get: (sessionId: string) => Known | undefined
  readonly set: (known: Known) => void
  readonly delete: (sessionId: string) => void
}

/**
 * Holds at least the last `capacity` sessions written (0 = caching off), at most twice as many, in
 * two generations of up to `capacity` each: writes go to the young one; when it is full it becomes
 * the old one and the old one is dropped. A session written again before `capacity` other sessions
 * are (every live session, interim after interim) is never dropped. Unlike an exact LRU (delete and
 * re-insert on every write, which left a Map compacting its holes), every operation is one or two
 * plain Map lookups.
 */
export const make = (capacity: number): SessionCache => {
  const generation = Math.max(1, capacity)
  let young = new Map<string, Known>()
  let old = new Map<string, Known>()
  return {
    get: (id) => young.get(id) ?? old.get(id),
    set: (known) => {
      if (capacity <= 0) return
      const id = known.session.sessionId
      if (!young.has(id) && young.size >= generation) {
        old = young
        young = new Map()
      }
      // An older copy may stay in the old generation: reads look in the young one first, and the
      // old generation is dropped before the young one ever is.
      young.set(id, known)
    },
    delete: (id) => {
      young.delete(id)
      old.delete(id)
    }
  }
}
