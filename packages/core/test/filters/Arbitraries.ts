/**
 * A test entity covering every field kind (nullable and not), random rows, and random filter dicts
 * paired with an independent oracle predicate. Shared by the core property tests and the
 * PostgreSQL differential test in packages/adapters.
 */
import * as fc from "fast-check"
import { Field, makeEntitySpec } from "../../src/filters/FieldSpec.js"

export interface TestRow {
  readonly id: string
  readonly s: string | null
  readonly t: string
  readonly n: number | null
  readonly x: number
  readonly b: boolean | null
  readonly f: boolean
  readonly d: Date | null
  readonly dt: Date
  readonly e: string | null
  readonly k: string
  readonly u: string | null
}

export const ENUM = ["A", "B", "C_D", "a"] as const

export const TestSpec = makeEntitySpec<TestRow>({
  entity: "test_row",
  table: "filter_test_rows",
  fields: {
    id: Field.uuid(),
    s: Field.string({ nullable: true }),
    t: Field.string(),
    n: Field.int({ nullable: true }),
    x: Field.number(),
    b: Field.boolean({ nullable: true }),
    f: Field.boolean(),
    d: Field.datetime({ nullable: true }),
    dt: Field.datetime(),
    e: Field.enum(ENUM, { nullable: true }),
    k: Field.enum(ENUM),
    u: Field.uuid({ nullable: true })
  },
  get: (row, key) => (row as unknown as Record<string, string | number | boolean | Date | null>)[key] ?? null,
  defaultLimit: 10,
  maxLimit: 1000
})

// Characters chosen to hit the hard cases: case folding (ASCII and not), LIKE metacharacters,
// code point vs UTF-16 order (U+E000 vs an astral character), and prefixes of one another.
const pieces = ["a", "A", "b", "B", "%", "_", "\\", "é", "É", "😀", "\uE000", " ", "ab", "Ab", "z"]
export const str = fc.array(fc.constantFrom(...pieces), { maxLength: 4 }).map((a) => a.join(""))
export const int = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(2 ** 40, -(2 ** 40), 2147483647))
export const num = fc.constantFrom(-1.5, 0, 0.1, 2, 1e10, 3.25, -0.000001)
const t0 = Date.UTC(2026, 0, 1)
export const date = fc.constantFrom(0, 1, 2, 999, 1000, 86_400_000, -5).map((ms) => new Date(t0 + ms))
const uuids = ["00000000-0000-4000-8000-000000000001", "7fffffff-0000-4000-8000-000000000000", "ffffffff-0000-4000-8000-00000000000a"]
export const uuid = fc.constantFrom(...uuids)
const nullable = <A>(a: fc.Arbitrary<A>) => fc.option(a, { nil: null, freq: 4 })

export const rowArb: fc.Arbitrary<TestRow> = fc.record({
  id: fc.uuid().map((s) => s.toLowerCase()),
  s: nullable(str),
  t: str,
  n: nullable(int),
  x: num,
  b: nullable(fc.boolean()),
  f: fc.boolean(),
  d: nullable(date),
  dt: date,
  e: nullable(fc.constantFrom(...ENUM)),
  k: fc.constantFrom(...ENUM),
  u: nullable(uuid)
})

export const rowsArb = fc.uniqueArray(rowArb, { selector: (r) => r.id, maxLength: 40 })

// --- The oracle: written independently of src/filters (UTF-8 byte order, plain JS). ---

type V = string | number | boolean | Date
const kindOf = (field: string) => TestSpec.fields[field].kind
const cmp = (field: string, a: V, b: V): number => {
  switch (kindOf(field)) {
    case "string":
    case "enum":
    case "uuid":
      return Buffer.compare(Buffer.from(String(a), "utf8"), Buffer.from(String(b), "utf8"))
    case "datetime":
      return Math.sign((a as Date).valueOf() - (b as Date).valueOf())
    case "boolean":
      return Number(a) - Number(b)
    default:
      return Math.sign((a as number) - (b as number))
  }
}
const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32))

export interface GenFilter {
  readonly key: string
  /** The value as code would pass it. */
  readonly value: unknown
  /** The same value as a URL query string would carry it. */
  readonly url: string
  readonly oracle: (row: TestRow) => boolean
}

const valueArb = (field: string): fc.Arbitrary<V> => {
  switch (field) {
    case "s":
    case "t":
      return str
    case "n":
      return int
    case "x":
      return num
    case "b":
    case "f":
      return fc.boolean()
    case "d":
    case "dt":
      return date
    case "e":
    case "k":
      return fc.constantFrom(...ENUM)
    default:
      return fc.oneof(uuid, fc.uuid())
  }
}

const toUrl = (v: unknown): string =>
  Array.isArray(v) ? v.map(toUrl).join(",") : v instanceof Date ? v.toISOString() : String(v)

const get = (row: TestRow, field: string) => (row as unknown as Record<string, V | null>)[field]

const OPS: Record<string, ReadonlyArray<string>> = {
  string: ["exact", "ne", "gt", "gte", "lt", "lte", "in", "nin", "isnull", "range", "contains", "icontains", "startswith", "istartswith", "endswith"],
  int: ["exact", "ne", "gt", "gte", "lt", "lte", "in", "nin", "isnull", "range"],
  number: ["exact", "ne", "gt", "gte", "lt", "lte", "in", "nin", "isnull", "range"],
  datetime: ["exact", "ne", "gt", "gte", "lt", "lte", "in", "nin", "isnull", "range"],
  enum: ["exact", "ne", "in", "nin", "isnull"],
  uuid: ["exact", "ne", "in", "nin", "isnull"],
  boolean: ["exact", "ne", "isnull"]
}

/** Every (field, operator) pair the spec accepts. */
export const fieldOps: ReadonlyArray<readonly [string, string]> = Object.keys(TestSpec.fields).flatMap((f) =>
  OPS[kindOf(f)].map((op) => [f, op] as const)
)

export const filterFor = (field: string, op: string): fc.Arbitrary<GenFilter> => {
  const key = op === "exact" ? field : `${field}__${op}`
  const one = valueArb(field)
  const mk = (value: unknown, oracle: (row: TestRow) => boolean): GenFilter => ({ key, value, url: toUrl(value), oracle })
  const at = (row: TestRow) => get(row, field)
  switch (op) {
    case "exact":
      return one.map((v) => mk(v, (r) => at(r) !== null && cmp(field, at(r)!, v) === 0))
    case "ne":
      return one.map((v) => mk(v, (r) => at(r) === null || cmp(field, at(r)!, v) !== 0))
    case "gt":
      return one.map((v) => mk(v, (r) => at(r) !== null && cmp(field, at(r)!, v) > 0))
    case "gte":
      return one.map((v) => mk(v, (r) => at(r) !== null && cmp(field, at(r)!, v) >= 0))
    case "lt":
      return one.map((v) => mk(v, (r) => at(r) !== null && cmp(field, at(r)!, v) < 0))
    case "lte":
      return one.map((v) => mk(v, (r) => at(r) !== null && cmp(field, at(r)!, v) <= 0))
    case "in":
      return fc.array(one, { maxLength: 3 }).map((vs) =>
        mk(vs, (r) => at(r) !== null && vs.some((v) => cmp(field, at(r)!, v) === 0))
      )
    case "nin":
      return fc.array(one, { maxLength: 3 }).map((vs) =>
        mk(vs, (r) => at(r) === null || vs.every((v) => cmp(field, at(r)!, v) !== 0))
      )
    case "isnull":
      return fc.boolean().map((v) => mk(v, (r) => (at(r) === null) === v))
    case "range":
      return fc.tuple(one, one).map(([lo, hi]) =>
        mk([lo, hi], (r) => at(r) !== null && cmp(field, at(r)!, lo) >= 0 && cmp(field, at(r)!, hi) <= 0)
      )
    case "contains":
      return str.map((v) => mk(v, (r) => at(r) !== null && (at(r) as string).indexOf(v) >= 0))
    case "icontains":
      return str.map((v) => mk(v, (r) => at(r) !== null && lowerAscii(at(r) as string).indexOf(lowerAscii(v)) >= 0))
    case "startswith":
      return str.map((v) => mk(v, (r) => at(r) !== null && (at(r) as string).slice(0, v.length) === v))
    case "istartswith":
      return str.map((v) => mk(v, (r) => at(r) !== null && lowerAscii((at(r) as string).slice(0, v.length)) === lowerAscii(v)))
    default: // endswith
      return str.map((v) =>
        mk(v, (r) => at(r) !== null && (v === "" || (at(r) as string).slice(-v.length) === v))
      )
  }
}

/** One random condition over any (field, operator) pair. */
export const anyFilter = fc.constantFrom(...fieldOps).chain(([f, op]) => filterFor(f, op))

/** Up to three conditions on distinct keys, AND-ed. */
export const filtersArb = fc.uniqueArray(anyFilter, { selector: (g) => g.key, maxLength: 3 })

/** A random ordering over sortable fields (the id may appear, anywhere). */
export const orderArb = fc.shuffledSubarray(
  Object.keys(TestSpec.fields).filter((k) => TestSpec.fields[k].sortable),
  { maxLength: 3 }
).chain((fields) => fc.tuple(...fields.map((f) => fc.boolean().map((desc) => (desc ? "-" : "") + f))))
  .map((parts) => parts.join(","))

export const dictOf = (filters: ReadonlyArray<GenFilter>, form: "typed" | "url" = "typed"): Record<string, unknown> =>
  Object.fromEntries(filters.map((g) => [g.key, form === "typed" ? g.value : g.url]))

export const allOf = (filters: ReadonlyArray<GenFilter>) => (row: TestRow) => filters.every((g) => g.oracle(row))

/** Whether the URL form of these filters can express them (a comma string cannot carry [""]). */
export const urlExpressible = (filters: ReadonlyArray<GenFilter>) =>
  filters.every((g) => !(Array.isArray(g.value) && g.value.some((v) => v === "")))
