/**
 * PostgreSQL array literals for `$1::text[]` / `$1::numeric[]` parameters: how batches of keys and
 * columns travel as one parameter each (`= ANY($1)`, `unnest($1, $2, …)`).
 *
 * @internal
 */
const NEEDS_ESCAPE = /["\\]/
const hasNull = (values: ReadonlyArray<unknown>) => values.includes(null) || values.includes(undefined)

/** A PostgreSQL array literal of text values (NULL for null), for `$1::text[]` parameters. */
export const textArray = (values: ReadonlyArray<string | null>): string => {
  // Fast path (ids, enums, timestamps, encoded segments): no null and nothing to escape, checked in
  // two native passes instead of a test per value.
  if (!hasNull(values) && !NEEDS_ESCAPE.test(values.join(""))) {
    return values.length === 0 ? "{}" : `{"${values.join("\",\"")}"}`
  }
  const quoted = values.map((v) =>
    v === null || v === undefined
      ? "NULL"
      : NEEDS_ESCAPE.test(v) ? `"${v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"` : `"${v}"`
  )
  return `{${quoted.join(",")}}`
}

const isNull = (v: unknown) => v === null || v === undefined

/** A PostgreSQL array literal of numbers or decimal strings (NULL for null), for `$1::numeric[]` etc. */
export const numberArray = (values: ReadonlyArray<number | bigint | string | null>): string => {
  // `join` writes null as "", which PostgreSQL would reject: only then spell each value out.
  if (!hasNull(values)) return `{${values.join(",")}}`
  return `{${values.map((v) => (isNull(v) ? "NULL" : v)).join(",")}}`
}
