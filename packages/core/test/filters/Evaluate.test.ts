import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import type { Page } from "../../src/filters/Ast.js"
import { runQuery } from "../../src/filters/Evaluate.js"
import { parseEither } from "../../src/filters/Parse.js"
import { compareStrings } from "../../src/filters/Values.js"
import {
  allOf, dictOf, fieldOps, filterFor, filtersArb, orderArb, rowsArb, type TestRow, TestSpec
} from "./Arbitraries.js"

const parseOk = (dict: Record<string, unknown>) => {
  const r = parseEither(TestSpec, dict)
  if (Either.isLeft(r)) throw new Error(`unexpected parse error: ${r.left.message}`)
  return r.right
}
const ids = (rows: ReadonlyArray<TestRow>) => rows.map((r) => r.id)

describe("Evaluate: parse → runQuery agrees with an independent predicate", () => {
  // One property per (field, operator): every operator on every kind is exercised, nullable or not.
  for (const [field, op] of fieldOps) {
    it(`${field}__${op}`, () => {
      fc.assert(
        fc.property(rowsArb, filterFor(field, op), (rows, g) => {
          const page = runQuery(TestSpec, parseOk({ [g.key]: g.value, limit: 1000 }), rows)
          expect(new Set(ids(page.items))).toEqual(new Set(ids(rows.filter(g.oracle))))
          expect(page.nextCursor).toBeNull()
        }),
        { numRuns: 150 }
      )
    })
  }

  it("conjunctions of random conditions", () => {
    fc.assert(
      fc.property(rowsArb, filtersArb, (rows, filters) => {
        const page = runQuery(TestSpec, parseOk({ ...dictOf(filters), limit: 1000 }), rows)
        expect(new Set(ids(page.items))).toEqual(new Set(ids(rows.filter(allOf(filters)))))
      }),
      { numRuns: 300 }
    )
  })

  it("orders by the requested fields, then by id ascending", () => {
    fc.assert(
      fc.property(rowsArb, orderArb, (rows, orderBy) => {
        const query = parseOk({ order_by: orderBy, limit: 1000 })
        const got = runQuery(TestSpec, query, rows).items
        const fields = orderBy === "" ? [] : orderBy.split(",")
        for (let i = 1; i < got.length; i++) {
          const [a, b] = [got[i - 1], got[i]]
          let decided = 0
          for (const f of [...fields, "id"]) {
            const name = f.replace("-", "")
            const va = TestSpec.get(a, name)!
            const vb = TestSpec.get(b, name)!
            const d = va instanceof Date ? va.getTime() - (vb as Date).getTime()
              : typeof va === "string" ? Buffer.compare(Buffer.from(va), Buffer.from(vb as string))
              : Number(va) - Number(vb)
            if (d !== 0) {
              decided = f.startsWith("-") ? -Math.sign(d) : Math.sign(d)
              break
            }
          }
          expect(decided).toBe(-1)
        }
      }),
      { numRuns: 300 }
    )
  })
})

describe("Evaluate: cursor pagination", () => {
  it("visits every matching record exactly once, in order, for any page size", () => {
    fc.assert(
      fc.property(rowsArb, filtersArb, orderArb, fc.integer({ min: 1, max: 7 }), (rows, filters, orderBy, size) => {
        const base = { ...dictOf(filters), order_by: orderBy }
        const all = runQuery(TestSpec, parseOk({ ...base, limit: 1000 }), rows).items
        const seen: Array<TestRow> = []
        let cursor: string | null = null
        for (let pages = 0; pages <= rows.length + 1; pages++) {
          const page: Page<TestRow> = runQuery(TestSpec, parseOk({ ...base, limit: size, ...(cursor ? { cursor } : {}) }), rows)
          seen.push(...page.items)
          expect(page.items.length).toBeLessThanOrEqual(size)
          cursor = page.nextCursor
          if (cursor === null) break
          expect(page.items.length).toBe(size)
        }
        expect(cursor).toBeNull()
        expect(ids(seen)).toEqual(ids(all))
      }),
      { numRuns: 300 }
    )
  })

  it("gives a null next cursor when the page ends exactly at the last row", () => {
    fc.assert(
      fc.property(rowsArb.filter((r) => r.length > 0), (rows) => {
        const page = runQuery(TestSpec, parseOk({ limit: rows.length }), rows)
        expect(page.items.length).toBe(rows.length)
        expect(page.nextCursor).toBeNull()
      })
    )
  })
})

describe("compareStrings", () => {
  it("is UTF-8 byte order (COLLATE \"C\"), not UTF-16 code unit order", () => {
    const s = fc.string({ unit: "grapheme-composite", maxLength: 5 })
    fc.assert(
      fc.property(s, s, (a, b) => {
        expect(compareStrings(a, b)).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))))
      }),
      { numRuns: 1000 }
    )
    expect(compareStrings("\uE000", "😀")).toBe(-1)
    expect("\uE000" < "😀").toBe(false) // why the helper exists
  })
})
