import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Either } from "effect"
import * as fc from "fast-check"
import { runQuery } from "../../src/filters/Evaluate.js"
import { AlertFilterSpec, ServiceFilterSpec, StatusChangeFilterSpec, TemplateFilterSpec, WorkflowFilterSpec } from "../../src/filters/index.js"
import { parse, parseEither } from "../../src/filters/Parse.js"
import { dictOf, filtersArb, orderArb, rowsArb, TestSpec, urlExpressible } from "./Arbitraries.js"

const specs = [ServiceFilterSpec, TemplateFilterSpec, AlertFilterSpec, WorkflowFilterSpec, StatusChangeFilterSpec, TestSpec]

const errorOf = (dict: unknown, spec: typeof ServiceFilterSpec = ServiceFilterSpec) => {
  const r = parseEither(spec, dict)
  if (Either.isRight(r)) throw new Error(`expected an error for ${JSON.stringify(dict)}`)
  return r.left
}

describe("parse", () => {
  it.effect("decodes URL strings by the field's kind", () =>
    Effect.gen(function*() {
      const q = yield* parse(ServiceFilterSpec, {
        status__in: "ACTIVE,SUSPENDED",
        created_at__gte: "2026-01-01T00:00:00Z",
        download_speed_kbps__range: "10,20",
        location__isnull: "true",
        customer_id: "cust-1",
        order_by: "-created_at,id",
        limit: "20",
        include: "template,history"
      })
      expect(q).toEqual({
        entity: "service",
        where: [
          { _tag: "In", field: "status", negated: false, values: ["ACTIVE", "SUSPENDED"] },
          { _tag: "Compare", field: "created_at", op: "gte", value: new Date("2026-01-01T00:00:00Z") },
          { _tag: "Range", field: "download_speed_kbps", lo: 10, hi: 20 },
          { _tag: "IsNull", field: "location", value: true },
          { _tag: "Compare", field: "customer_id", op: "eq", value: "cust-1" }
        ],
        orderBy: [{ field: "created_at", direction: "desc" }, { field: "id", direction: "asc" }],
        limit: 20,
        cursor: null,
        include: ["template", "history"]
      })
    }))

  it("accepts DateTime values from code", () => {
    const r = parseEither(ServiceFilterSpec, { created_at__lt: DateTime.unsafeMake("2026-03-01T12:00:00.123Z") })
    expect(Either.getOrThrow(r).where).toEqual([
      { _tag: "Compare", field: "created_at", op: "lt", value: new Date("2026-03-01T12:00:00.123Z") }
    ])
  })

  it("applies defaults and caps the limit", () => {
    const q = Either.getOrThrow(parseEither(ServiceFilterSpec, {}))
    expect(q.limit).toBe(ServiceFilterSpec.defaultLimit)
    expect(q.orderBy).toEqual(ServiceFilterSpec.defaultOrder)
    expect(Either.getOrThrow(parseEither(ServiceFilterSpec, { limit: 1_000_000 })).limit).toBe(ServiceFilterSpec.maxLimit)
  })

  it("URL-string values and typed values parse to the same AST", () => {
    fc.assert(
      fc.property(filtersArb.filter(urlExpressible), orderArb, (filters, orderBy) => {
        const typed = parseEither(TestSpec, { ...dictOf(filters, "typed"), order_by: orderBy.split(",").filter(Boolean), limit: 7 })
        const url = parseEither(TestSpec, { ...dictOf(filters, "url"), order_by: orderBy, limit: "7" })
        expect(Either.isRight(typed)).toBe(true)
        expect(url).toEqual(typed)
      }),
      { numRuns: 500 }
    )
  })

  it("never throws, for any input", () => {
    const keys = fc.constantFrom(
      ...Object.keys(TestSpec.fields).flatMap((f) => [f, `${f}__in`, `${f}__range`, `${f}__gt`, `${f}__contains`, `${f}__isnull`]),
      "order_by", "limit", "cursor", "include", "__proto__", "constructor", "x__y__z"
    )
    const dicts = fc.dictionary(keys, fc.anything({ withDate: true, withBigInt: true, withNullPrototype: true }))
    for (const spec of specs) {
      fc.assert(
        fc.property(fc.oneof(fc.anything({ withDate: true, withMap: true, withNullPrototype: true }), fc.json().map((j) => JSON.parse(j)), dicts), (input) => {
          const r = parseEither(spec as typeof TestSpec, input)
          if (Either.isLeft(r)) expect(["InvalidFilter", "InvalidCursor"]).toContain(r.left._tag)
        }),
        { numRuns: 300 }
      )
    }
  })

  it("every valid parse can be evaluated", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("s__gt", "n__in", "d__range", "e", "limit"), fc.string()), rowsArb, (dict, rows) => {
        const r = parseEither(TestSpec, dict)
        if (Either.isRight(r)) runQuery(TestSpec, r.right, rows)
      })
    )
  })
})

describe("parse errors name the offending key", () => {
  const cases: ReadonlyArray<readonly [string, unknown, string, RegExp]> = [
    ["unknown field", { colour: "red" }, "colour", /unknown field "colour"/],
    ["unknown operator", { status__like: "A" }, "status__like", /unknown operator "like"/],
    ["contains on an int", { download_speed_kbps__contains: "1" }, "download_speed_kbps__contains", /does not apply to int/],
    ["gt on an enum", { status__gt: "ACTIVE" }, "status__gt", /does not apply to enum/],
    ["unknown enum value", { status: "SLEEPING" }, "status", /expected one of PENDING, ACTIVE/],
    ["unknown enum value in a list", { status__in: "ACTIVE,SLEEPING" }, "status__in", /SLEEPING/],
    ["a non-uuid id", { template_id: "abc" }, "template_id", /expected a UUID/],
    ["a float for an int", { download_speed_kbps: "1.5" }, "download_speed_kbps", /expected an integer/],
    ["a typed float for an int", { upload_speed_kbps__gte: 2.5 }, "upload_speed_kbps__gte", /expected an integer/],
    ["a garbage datetime", { created_at__gte: "yesterday" }, "created_at__gte", /ISO 8601/],
    ["an impossible date", { created_at: "2026-02-30T00:00:00Z" }, "created_at", /ISO 8601/],
    ["a datetime without zone", { created_at: "2026-02-01T10:00:00" }, "created_at", /ISO 8601/],
    ["a list for exact", { status: ["ACTIVE"] }, "status", /single value/],
    ["a range with three values", { download_speed_kbps__range: "1,2,3" }, "download_speed_kbps__range", /exactly two/],
    ["a bad isnull", { location__isnull: "maybe" }, "location__isnull", /true or false/],
    ["a number for a string", { customer_id: 5 }, "customer_id", /expected a string/],
    ["a NUL in a string", { location__contains: "a\u0000" }, "location__contains", /NUL/],
    ["limit zero", { limit: 0 }, "limit", /positive integer/],
    ["negative limit", { limit: "-3" }, "limit", /positive integer/],
    ["fractional limit", { limit: 1.5 }, "limit", /positive integer/],
    ["unknown include", { include: "template,invoices" }, "include", /invoices/],
    ["order by an unknown field", { order_by: "-colour" }, "order_by", /unknown field "colour"/],
    ["order by a nullable field", { order_by: "activated_at" }, "order_by", /not sortable/],
    ["order by a field twice", { order_by: "status,-status" }, "order_by", /twice/],
    ["not an object", ["status"], "", /expected an object/]
  ]
  for (const [name, dict, key, reason] of cases) {
    it(name, () => {
      const e = errorOf(dict)
      expect(e._tag).toBe("InvalidFilter")
      expect(e).toMatchObject({ key })
      expect(e.message).toMatch(reason)
      expect(e.message).toContain(`"${key}"`)
    })
  }

  it("isnull and ne are refused on a boolean only where they do not fit", () => {
    expect(errorOf({ is_active__gt: true }, TemplateFilterSpec as never)).toMatchObject({ key: "is_active__gt" })
    expect(Either.isRight(parseEither(TemplateFilterSpec, { is_active__ne: "false" }))).toBe(true)
  })
})

describe("cursors", () => {
  const rows = fc.sample(rowsArb.filter((r) => r.length >= 5), { numRuns: 1, seed: 42 })[0]
  const firstCursor = (order: string) => runQuery(TestSpec, Either.getOrThrow(parseEither(TestSpec, { order_by: order, limit: 2 })), rows).nextCursor!

  it("a cursor from another ordering is InvalidCursor", () => {
    const cursor = firstCursor("-dt")
    expect(errorOf({ order_by: "dt", cursor }, TestSpec as never)._tag).toBe("InvalidCursor")
    expect(Either.isRight(parseEither(TestSpec, { order_by: "-dt", cursor }))).toBe(true)
  })

  it("a cursor from another entity is InvalidCursor", () => {
    const cursor = firstCursor("")
    expect(errorOf({ cursor }, ServiceFilterSpec)._tag).toBe("InvalidCursor")
  })

  it("garbage is InvalidCursor", () => {
    for (const cursor of ["x", "!!!", "eyJmIjoxfQ", 42]) {
      expect(errorOf({ cursor }, TestSpec as never)._tag).toBe("InvalidCursor")
    }
  })
})
