/**
 * PostgreSQL array literals for `$1::text[]` / `$1::numeric[]` parameters: how batches of keys and
 * columns travel as one parameter each (`= ANY($1)`, `unnest($1, $2, …)`).
 *
 * @internal
 */
const NEEDS_ESCAPE = /["\\]/
const hasNull = (values: ReadonlyArray<unknown>) => values.includes(null) || values.includes(undefined)

/** True when no value is null or holds a character that must be escaped in an array literal. */
const allPlain = (values: ReadonlyArray<string | null>): boolean => {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined || v.indexOf("\"") !== -1 || v.indexOf("\\") !== -1) return false
  }
  return true
}

/** A PostgreSQL array literal of text values (NULL for null), for `$1::text[]` parameters. */
export const textArray = (values: ReadonlyArray<string | null>): string => {
  // Fast path (ids, enums, timestamps, encoded segments): no null and nothing to escape, so the
  // values join as they are (two indexOf per value: a third of the cost of a joined regex test).
  if (allPlain(values)) return values.length === 0 ? "{}" : `{"${values.join("\",\"")}"}`
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
