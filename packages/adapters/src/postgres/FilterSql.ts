/**
 * Compiles a parsed filter query (`FilterDict.FilterQuery`) into `@effect/sql` fragments for
 * PostgreSQL, with exactly the semantics of the in-memory reference evaluator
 * (`FilterDict.runQuery`):
 *
 * - values are always bound parameters, cast to the field's type; identifiers come only from the
 *   entity spec's whitelist (`sql(column)`), never from user input;
 * - `ne` is `IS DISTINCT FROM` and `nin` keeps NULLs, as in the evaluator;
 * - string comparisons and ordering use `COLLATE "C"` (code-point order, like the evaluator);
 * - `i…` operators use `lower(col COLLATE "C")`, which folds ASCII letters only — the evaluator
 *   folds ASCII only too, so both agree on every input (non-ASCII letters are not case-folded);
 * - `contains` / `startswith` / `endswith` escape `%`, `_` and `\` in the LIKE pattern;
 * - the keyset condition follows the order's mixed asc/desc directions with `id` ascending last.
 *
 * Datetimes compare at the precision stored: the evaluator works in milliseconds (JS `Date`), so
 * columns must hold millisecond values (written from JS, or declared `timestamptz(3)`).
 *
 * @since 0.1.0
 */
import type { SqlClient, SqlError, Statement } from "@effect/sql"

import { FilterDict, Tracing } from "@isp-framework/core"
import { Effect } from "effect"

type Sql = Statement.Constructor
type Fragment = Statement.Fragment
type FieldSpec = FilterDict.FieldSpec
type Scalar = FilterDict.Scalar

/** The column as compared and ordered: text under `COLLATE "C"`, anything else as is. */
const column = (sql: Sql, field: FieldSpec): Fragment =>
  field.kind === "string" || field.kind === "enum" ? sql`${sql(field.column)} COLLATE "C"` : sql`${sql(field.column)}`

const CAST: Record<FilterDict.FieldKind, string> = {
  string: "text",
  enum: "text",
  uuid: "uuid",
  int: "bigint", // bigint so any safe JS integer binds, whatever the column's integer width
  number: "float8",
  boolean: "boolean",
  datetime: "timestamptz"
}

/** A bound parameter with an explicit type, so PostgreSQL never guesses from context. */
const param = (sql: Sql, field: FieldSpec, value: Scalar): Fragment => sql`${value}::${sql.literal(CAST[field.kind])}`

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => "\\" + c)

const COMPARE_SQL: Record<FilterDict.ComparisonOp, string> = {
  eq: "=",
  ne: "IS DISTINCT FROM",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<="
}

const compileCondition = (sql: Sql, spec: FilterDict.EntitySpec<unknown>, c: FilterDict.Condition): Fragment => {
  const field = spec.fields[c.field]
  const col = column(sql, field)
  switch (c._tag) {
    case "Compare":
      return sql`${col} ${sql.literal(COMPARE_SQL[c.op])} ${param(sql, field, c.value)}`
    case "IsNull":
      return c.value ? sql`${sql(field.column)} IS NULL` : sql`${sql(field.column)} IS NOT NULL`
    case "Range":
      return sql`(${col} >= ${param(sql, field, c.lo)} AND ${col} <= ${param(sql, field, c.hi)})`
    case "In": {
      if (c.values.length === 0) return sql.literal(c.negated ? "TRUE" : "FALSE")
      const list = sql.csv(c.values.map((v) => param(sql, field, v)))
      return c.negated ? sql`(${sql(field.column)} IS NULL OR ${col} NOT IN (${list}))` : sql`${col} IN (${list})`
    }
    case "Text": {
      const folded = c.op === "icontains" || c.op === "istartswith"
      const needle = likeEscape(folded ? FilterDict.asciiLower(c.value) : c.value)
      const pattern = c.op === "contains" || c.op === "icontains"
        ? `%${needle}%`
        : c.op === "endswith"
        ? `%${needle}`
        : `${needle}%`
      const lhs = folded ? sql`lower(${col})` : col
      return sql`${lhs} LIKE ${pattern}::text`
    }
  }
}

/** The keyset condition "strictly after the cursor" for the query's effective ordering. */
const compileKeyset = (sql: Sql, spec: FilterDict.EntitySpec<unknown>, query: FilterDict.FilterQuery): Fragment | null => {
  if (query.cursor === null) return null
  const order = FilterDict.effectiveOrder(spec, query.orderBy)
  const values: ReadonlyArray<Scalar> = query.orderBy.some((o) => o.field === spec.idField)
    ? query.cursor.values
    : [...query.cursor.values, query.cursor.id]
  const fields = order.map((o) => spec.fields[o.field])
  if (order.every((o) => o.direction === "asc")) {
    // One row comparison: PostgreSQL turns it into a single index range on (cols…, id).
    return sql`(${sql.csv(fields.map((f) => column(sql, f)))}) > (${sql.csv(fields.map((f, i) => param(sql, f, values[i])))})`
  }
  // Mixed directions: (a after) OR (a equal AND b after) OR … with "after" per direction.
  const branches = order.map((o, k) =>
    sql.and([
      ...fields.slice(0, k).map((f, i) => sql`${column(sql, f)} = ${param(sql, f, values[i])}`),
      sql`${column(sql, fields[k])} ${sql.literal(o.direction === "asc" ? ">" : "<")} ${param(sql, fields[k], values[k])}`
    ])
  )
  return sql.or(branches)
}

/**
 * The WHERE condition of a query: its filters AND-ed, plus the keyset condition when it has a
 * cursor. Use as `sql\`SELECT … WHERE ${compileWhere(sql, spec, query)}\``.
 */
export const compileWhere = <A>(sql: Sql, spec: FilterDict.EntitySpec<A>, query: FilterDict.FilterQuery): Fragment => {
  const s = spec as FilterDict.EntitySpec<unknown>
  const keyset = compileKeyset(sql, s, query)
  return sql.and([...query.where.map((c) => compileCondition(sql, s, c)), ...(keyset === null ? [] : [keyset])])
}

/** The ORDER BY list (without the keywords): the query's order, then `id ASC` as the tie-break. */
export const compileOrderBy = <A>(sql: Sql, spec: FilterDict.EntitySpec<A>, query: FilterDict.FilterQuery): Fragment =>
  sql.csv(
    FilterDict.effectiveOrder(spec, query.orderBy).map((o) =>
      sql`${column(sql, spec.fields[o.field])} ${sql.literal(o.direction === "asc" ? "ASC" : "DESC")}`
    )
  )

/**
 * Runs a query against `spec.table`: one statement fetching `limit + 1` rows, so the page knows
 * whether a next page exists without a COUNT.
 */
export const searchPage = <A>(
  sql: SqlClient.SqlClient,
  spec: FilterDict.EntitySpec<A>,
  query: FilterDict.FilterQuery,
  options: {
    /** The select list; `*` by default. */
    readonly select?: Fragment
    readonly decode: (row: Record<string, unknown>) => A
    /** How the statement runs; as itself by default (`PgReadPool.execute` on PostgreSQL). */
    readonly execute?: ((
      statement: Statement.Statement<Record<string, unknown>>
    ) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError.SqlError>) | undefined
  }
): Effect.Effect<FilterDict.Page<A>, SqlError.SqlError> => {
  const statement = sql<Record<string, unknown>>`SELECT ${options.select ?? sql.literal("*")} FROM ${sql(spec.table)}
      WHERE ${compileWhere(sql, spec, query)}
      ORDER BY ${compileOrderBy(sql, spec, query)}
      LIMIT ${sql.literal(String(query.limit + 1))}`
  return Effect.map(
    options.execute ? options.execute(statement) : statement,
    (rows) => {
      const items = rows.slice(0, query.limit).map(options.decode)
      const nextCursor = rows.length > query.limit ? FilterDict.encodeCursor(spec, query, items[items.length - 1]) : null
      return { items, nextCursor }
    }
  ).pipe(Tracing.spanWhenTraced("FilterSql.searchPage", { attributes: { entity: spec.entity, limit: query.limit } }))
}
