/**
 * The ingest's row codecs: the compact `segments` text round-trips every segment exactly (64-bit
 * counters included), and rows written before migration 0006 (JSON) still decode.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import * as fc from "fast-check"
import { UsageSegment } from "@isp-framework/core"
import { decodeSegments, encodeSegments, numberArray } from "../../src/postgres/usage/SessionRows.js"

const millis = fc.integer({ min: 0, max: 4_102_444_800_000 })
const segmentArb = fc
  .record({
    anchored: fc.boolean(),
    startFrom: millis,
    firstEventAt: millis,
    lastEventAt: millis,
    inputBytes: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    outputBytes: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    sessionSeconds: fc.nat()
  })
  .map((s) =>
    new UsageSegment({
      ...s,
      startFrom: DateTime.unsafeMake(s.startFrom) as DateTime.Utc,
      firstEventAt: DateTime.unsafeMake(s.firstEventAt) as DateTime.Utc,
      lastEventAt: DateTime.unsafeMake(s.lastEventAt) as DateTime.Utc
    })
  )

const plain = (s: UsageSegment) => [
  s.anchored, s.startFrom.epochMillis, s.firstEventAt.epochMillis, s.lastEventAt.epochMillis,
  s.inputBytes, s.outputBytes, s.sessionSeconds
]

describe("SessionRows", () => {
  it.prop("segments survive encode → decode", [fc.array(segmentArb, { maxLength: 5 })], ([segments]) => {
    const text = encodeSegments(segments)
    expect(text).not.toMatch(/["\\{}]/) // travels unescaped inside a text[] literal
    expect(decodeSegments(text).map(plain)).toEqual(segments.map(plain))
  })

  it("decodes the JSON encoding of rows written before migration 0006", () => {
    const decoded = decodeSegments(`[[1,1000,2000,3000,"18446744073709551615","5",42],[0,10,10,20,"7","8",9]]`)
    expect(decoded.map(plain)).toEqual([
      [true, 1000, 2000, 3000, 18446744073709551615n, 5n, 42],
      [false, 10, 10, 20, 7n, 8n, 9]
    ])
  })

  it.prop(
    "number array literals list every value, NULL for null",
    [fc.array(fc.option(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), { nil: null }))],
    ([values]) => {
      const literal = numberArray(values)
      const inner = literal.slice(1, -1)
      expect(inner === "" ? [] : inner.split(",")).toEqual(values.map((v) => (v === null ? "NULL" : v.toString())))
    }
  )
})
