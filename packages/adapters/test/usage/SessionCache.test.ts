/**
 * The ingest's session cache against a model (the last write per id): a hit is always the last
 * version written, nothing deleted comes back, the last `capacity` sessions written are all held,
 * and it never holds more than twice that.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { AccountingSession } from "@isp-framework/core"
import * as SessionCache from "../../src/postgres/usage/SessionCache.js"

const known = (id: string, version: number): SessionCache.Known => ({
  session: { sessionId: id } as AccountingSession,
  version,
  customerId: null
})

type Op = { readonly kind: "set" | "delete" | "get"; readonly id: number }
const ops = fc.array(
  fc.record({ kind: fc.constantFrom<Op["kind"]>("set", "set", "delete", "get"), id: fc.integer({ min: 0, max: 40 }) }),
  { maxLength: 400 }
)

describe("SessionCache", () => {
  it("a hit is always the last version written, and nothing deleted comes back", () =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), ops, (capacity, list) => {
        const cache = SessionCache.make(capacity)
        const last = new Map<string, number>()
        let version = 0
        for (const op of list) {
          const id = `s${op.id}`
          if (op.kind === "set") {
            cache.set(known(id, ++version))
            last.set(id, version)
          } else if (op.kind === "delete") {
            cache.delete(id)
            last.delete(id)
          } else {
            const hit = cache.get(id)
            if (hit !== undefined) expect(hit.version).toBe(last.get(id))
          }
        }
        // The last `capacity` distinct sessions written (and not deleted since) are all held.
        const recent: Array<string> = []
        for (let i = list.length - 1; i >= 0 && recent.length < capacity; i--) {
          const id = `s${list[i]!.id}`
          if (list[i]!.kind === "set" && !recent.includes(id)) recent.push(id)
        }
        for (const id of recent) if (last.has(id)) expect(cache.get(id)?.version).toBe(last.get(id))
        // Bounded: at most twice the capacity (0: nothing at all).
        let held = 0
        for (let i = 0; i <= 40; i++) if (cache.get(`s${i}`) !== undefined) held++
        expect(held).toBeLessThanOrEqual(2 * capacity)
      })
    ))

  it("keeps every live session while one-off sessions pass through", () => {
    const cache = SessionCache.make(1000)
    // 400 live sessions, each written every round; 600 one-off sessions pass through in between.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 400; i++) cache.set(known(`live${i}`, round))
      for (let i = 0; i < 600; i++) cache.set(known(`once${round}-${i}`, 0))
    }
    for (let i = 0; i < 400; i++) expect(cache.get(`live${i}`)?.version).toBe(9)
    expect(cache.get("once0-0")).toBeUndefined()
  })
})
