import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { uuidv7 } from "@isp-framework/core"

describe("uuidv7", () => {
  it("is a valid v7 UUID carrying its millisecond timestamp", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 47 }), (ms) => {
      const id = uuidv7(ms)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBeGreaterThanOrEqual(ms)
    }))
  })

  it("ids made in order sort in order, also many within one millisecond or with a clock going back", () => {
    const times = [5_000, 5_000, 5_000, 4_000, 5_001, ...Array.from({ length: 5000 }, () => 6_000)]
    const ids = times.map(uuidv7)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
