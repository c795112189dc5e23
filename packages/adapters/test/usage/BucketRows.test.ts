/**
 * The bucket update's rows: every HOUR and PERIOD addition of a batch is reachable through exactly
 * one key with its own counters, rows come in key order, and the common case (one HOUR, one PERIOD
 * with the same counters) packs into one row.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import * as fc from "fast-check"
import type { MemoryUsageStore, ServiceId, UsageGranularity } from "@isp-framework/core"
import * as BucketRows from "../../src/postgres/usage/BucketRows.js"

type BucketAdd = MemoryUsageStore.BucketAdd
const H = 3_600_000
const T0 = Date.parse("2026-03-10T10:00:00Z")

const add = (serviceId: string, granularity: UsageGranularity, hourIndex: number, bytes: number): BucketAdd => ({
  serviceId: serviceId as ServiceId,
  granularity,
  periodStart: DateTime.unsafeMake(T0 + hourIndex * H) as DateTime.Utc,
  periodEnd: DateTime.unsafeMake(T0 + (hourIndex + 1) * H) as DateTime.Utc,
  bytesIn: BigInt(bytes),
  bytesOut: BigInt(2 * bytes),
  sessionSeconds: bytes % 1000
})

// Distinct (service, granularity, start) keys, as a fold produces them.
const addsArb = fc.uniqueArray(
  fc.record({
    s: fc.constantFrom("a", "b", "c", "d"),
    g: fc.constantFrom<UsageGranularity>("HOUR", "DAY", "PERIOD"),
    h: fc.integer({ min: 0, max: 3 }),
    bytes: fc.integer({ min: 0, max: 5 })
  }),
  { selector: (x) => `${x.s}/${x.g}/${x.h}` }
).map((xs) => xs.map((x) => add(x.s, x.g, x.h, x.bytes)))

const keyOf = (b: BucketAdd) => `${b.serviceId}/${b.granularity}/${b.periodStart.epochMillis}`

describe("BucketRows", () => {
  it.prop("every HOUR / PERIOD addition is behind exactly one key, in key order", [addsArb], ([adds]) => {
    const rows = BucketRows.rowsOf(adds)
    const reached = BucketRows.keysOf(rows).map((k) => BucketRows.bucketAt(rows, k)!)
    const wanted = adds.filter((a) => a.granularity !== "DAY")
    expect(reached.map(keyOf).sort()).toEqual(wanted.map(keyOf).sort())
    expect(new Set(reached).size).toBe(reached.length)
    // Key order: service, then HOUR before PERIOD, then start.
    const order = reached.map((b) => [b.serviceId, b.granularity, b.periodStart.epochMillis] as const)
    const sorted = [...order].sort((x, y) => (x[0] !== y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] !== y[1] ? (x[1] < y[1] ? -1 : 1) : x[2] - y[2]))
    expect(order).toEqual(sorted)
    // Each row carries the counters of every bucket it stands for.
    for (const r of rows) {
      for (const b of [r.hour, r.period]) {
        if (b !== null) expect([r.bytesIn, r.bytesOut, r.sessionSeconds]).toEqual([b.bytesIn, b.bytesOut, b.sessionSeconds])
      }
    }
  })

  it("one HOUR and one PERIOD with the same counters travel as one row; different counters as two", () => {
    expect(BucketRows.rowsOf([add("a", "PERIOD", 0, 5), add("a", "HOUR", 1, 5), add("a", "DAY", 1, 5)])).toHaveLength(1)
    expect(BucketRows.rowsOf([add("a", "PERIOD", 0, 5), add("a", "HOUR", 1, 4)])).toHaveLength(2)
    expect(BucketRows.rowsOf([add("a", "PERIOD", 0, 9), add("a", "HOUR", 1, 4), add("a", "HOUR", 2, 5)])).toHaveLength(3)
  })
})
