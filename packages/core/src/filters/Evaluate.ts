/**
 * The in-memory evaluator: the REFERENCE semantics of a {@link FilterQuery} (see Ast.ts). The memory
 * repositories use it directly, and the SQL compiler is tested against it.
 *
 * @since 0.1.0
 */
import type { ComparisonOp, Condition, CursorPosition, FilterQuery, OrderBy, Page, Scalar, StringOp } from "./Ast.js"
import { encodeCursor } from "./Cursor.js"
import type { EntitySpec } from "./FieldSpec.js"
import { asciiLower, compareValues } from "./Values.js"

/** The full ordering a query sorts by: its `orderBy`, then the id ascending unless the id is already in it. */
export const effectiveOrder = <A>(spec: EntitySpec<A>, orderBy: ReadonlyArray<OrderBy>): ReadonlyArray<OrderBy> =>
  orderBy.some((o) => o.field === spec.idField) ? orderBy : [...orderBy, { field: spec.idField, direction: "asc" }]

const compareHolds = (op: ComparisonOp, d: number): boolean =>
  op === "eq" ? d === 0 : op === "ne" ? d !== 0 : op === "gt" ? d > 0 : op === "gte" ? d >= 0 : op === "lt" ? d < 0 : d <= 0

const textHolds = (op: StringOp, s: string, needle: string): boolean =>
  op === "contains"
    ? s.includes(needle)
    : op === "icontains"
    ? asciiLower(s).includes(asciiLower(needle))
    : op === "startswith"
    ? s.startsWith(needle)
    : op === "istartswith"
    ? asciiLower(s).startsWith(asciiLower(needle))
    : s.endsWith(needle)

const test = <A>(spec: EntitySpec<A>, c: Condition, record: A): boolean => {
  const kind = spec.fields[c.field].kind
  const v = spec.get(record, c.field)
  switch (c._tag) {
    case "IsNull":
      return (v === null) === c.value
    case "Compare":
      return v === null ? c.op === "ne" : compareHolds(c.op, compareValues(kind, v, c.value))
    case "In": {
      if (v === null) return c.negated
      const found = c.values.some((x) => compareValues(kind, v, x) === 0)
      return found !== c.negated
    }
    case "Range":
      return v !== null && compareValues(kind, v, c.lo) >= 0 && compareValues(kind, v, c.hi) <= 0
    case "Text":
      return v !== null && textHolds(c.op, String(v), c.value)
  }
}

/** Whether a record satisfies every condition (conditions are AND-ed). */
export const matches = <A>(spec: EntitySpec<A>, where: ReadonlyArray<Condition>, record: A): boolean =>
  where.every((c) => test(spec, c, record))

const valuesOf = <A>(spec: EntitySpec<A>, order: ReadonlyArray<OrderBy>, record: A): ReadonlyArray<Scalar> =>
  order.map((o) => spec.get(record, o.field) as Scalar)

/** Compares two sort-value tuples under an ordering (negative: `a` comes first). */
export const compareTuples = <A>(
  spec: EntitySpec<A>,
  order: ReadonlyArray<OrderBy>,
  a: ReadonlyArray<Scalar>,
  b: ReadonlyArray<Scalar>
): number => {
  for (let i = 0; i < order.length; i++) {
    const d = compareValues(spec.fields[order[i].field].kind, a[i], b[i])
    if (d !== 0) return order[i].direction === "asc" ? d : -d
  }
  return 0
}

/** The cursor position as a tuple over {@link effectiveOrder}. */
const cursorTuple = <A>(spec: EntitySpec<A>, orderBy: ReadonlyArray<OrderBy>, cursor: CursorPosition): ReadonlyArray<Scalar> =>
  orderBy.some((o) => o.field === spec.idField) ? cursor.values : [...cursor.values, cursor.id]

/**
 * Runs a query over records: filter, order (id ascending as the tie-break), start after the cursor,
 * take `limit`, and give the next page's cursor — null when no further row matches.
 */
export const runQuery = <A>(spec: EntitySpec<A>, query: FilterQuery, records: Iterable<A>): Page<A> => {
  const order = effectiveOrder(spec, query.orderBy)
  let rows: Array<{ readonly record: A; readonly key: ReadonlyArray<Scalar> }> = []
  for (const record of records) {
    if (matches(spec, query.where, record)) rows.push({ record, key: valuesOf(spec, order, record) })
  }
  rows.sort((a, b) => compareTuples(spec, order, a.key, b.key))
  if (query.cursor !== null) {
    const after = cursorTuple(spec, query.orderBy, query.cursor)
    rows = rows.filter((r) => compareTuples(spec, order, r.key, after) > 0)
  }
  const items = rows.slice(0, query.limit).map((r) => r.record)
  const nextCursor = rows.length > query.limit ? encodeCursor(spec, query, items[items.length - 1]) : null
  return { items, nextCursor }
}
