/**
 * The sessions an ingester last wrote, with the row version it wrote: a bounded LRU map. A hit lets
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

/** At most `capacity` sessions, the least recently written evicted first (0 = caching off). */
export const make = (capacity: number): SessionCache => {
  const map = new Map<string, Known>()
  return {
    // A read does not refresh the entry's place: every session the ingest reads and changes is `set`
    // again after its commit, which moves it to the back (Map iterates in insertion order, so the
    // first key is the least recently written).
    get: (id) => map.get(id),
    set: (known) => {
      if (capacity <= 0) return
      map.delete(known.session.sessionId)
      map.set(known.session.sessionId, known)
      if (map.size > capacity) map.delete(map.keys().next().value!)
    },
    delete: (id) => {
      map.delete(id)
    }
  }
}
