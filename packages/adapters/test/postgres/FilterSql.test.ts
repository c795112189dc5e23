/**
 * Differential test: random rows + random filter dicts give the same ids, in the same order, with
 * the same next cursors, from the SQL compiler (on real PostgreSQL, and on embedded PGlite) as from
 * the in-memory reference evaluator `runQuery`.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, ManagedRuntime, Redacted } from "effect"
import * as fc from "fast-check"
import { randomBytes } from "node:crypto"
import { FilterDict, type FilterQuery } from "@isp-framework/core"
import * as PgliteClient from "../../src/embedded/PgliteClient.js"
import { compileOrderBy, compileWhere, searchPage } from "../../src/postgres/FilterSql.js"

const { parseEither, runQuery } = FilterDict
import {
  dictOf, filtersArb, orderArb, rowsArb, type TestRow, TestSpec
} from "../../../core/test/filters/Arbitraries.js"

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const parseOk = (dict: Record<string, unknown>): FilterQuery => {
  const r = parseEither(TestSpec, dict)
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

// `t` deliberately has the database's default collation: the compiler must add COLLATE "C" itself.
const createTable = (table: string) => `
  CREATE TABLE ${table} (
    id uuid PRIMARY KEY,
    s text COLLATE "C",
    t text NOT NULL,
    n bigint,
    x double precision NOT NULL,
    b boolean,
    f boolean NOT NULL,
    d timestamptz(3),
    dt timestamptz(3) NOT NULL,
    e text,
    k text NOT NULL,
    u uuid
  )`

const decode = (row: Record<string, unknown>): TestRow => ({
  id: row.id as string,
  s: row.s as string | null,
  t: row.t as string,
  n: row.n === null ? null : Number(row.n),
  x: Number(row.x),
  b: row.b as boolean | null,
  f: row.f as boolean,
  d: row.d as Date | null,
  dt: row.dt as Date,
  e: row.e as string | null,
  k: row.k as string,
  u: row.u as string | null
})

const differential = (name: string, makeLayer: () => { layer: Layer.Layer<SqlClient.SqlClient, unknown>; schema: string }) =>
  describe(name, () => {
    const { layer, schema } = makeLayer()
    const runtime = ManagedRuntime.make(layer)
    const spec = { ...TestSpec, table: `${schema}.filter_test_rows` }
    const run = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
      runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, f))

    beforeAll(() =>
      run((sql) =>
        Effect.gen(function*() {
          yield* sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
          yield* sql.unsafe(createTable(spec.table))
        })
      ), 120_000)
    afterAll(async () => {
      await run((sql) => sql.unsafe(`DROP SCHEMA ${schema} CASCADE`)).catch(() => undefined)
      await runtime.dispose()
    })

    const load = (rows: ReadonlyArray<TestRow>) =>
      run((sql) =>
        Effect.gen(function*() {
          yield* sql.unsafe(`TRUNCATE ${spec.table}`)
          if (rows.length > 0) yield* sql`INSERT INTO ${sql(spec.table)} ${sql.insert(rows.map((r) => ({ ...r })))}`
        })
      )

    it("same ids, same order, same next cursor as runQuery; pagination agrees page by page", async () => {
      await fc.assert(
        fc.asyncProperty(
          rowsArb,
          fc.array(fc.tuple(filtersArb, orderArb, fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 8 }),
          async (rows, queries) => {
            await load(rows)
            for (const [filters, orderBy, size] of queries) {
              const base = { ...dictOf(filters), order_by: orderBy }
              // Whole result in one page.
              const all = parseOk({ ...base, limit: 1000 })
              const expected = runQuery(TestSpec, all, rows)
              const got = await run((sql) => searchPage(sql, spec, all, { decode }))
              expect(got.items.map((r) => r.id)).toEqual(expected.items.map((r) => r.id))
              expect(got.items).toEqual(expected.items)
              // Page by page with keyset cursors.
              let cursor: string | null = null
              for (let page = 0; page <= rows.length; page++) {
                const q = parseOk({ ...base, limit: size, ...(cursor === null ? {} : { cursor }) })
                const mem = runQuery(TestSpec, q, rows)
                const pg = await run((sql) => searchPage(sql, spec, q, { decode }))
                expect(pg.items.map((r) => r.id)).toEqual(mem.items.map((r) => r.id))
                expect(pg.nextCursor).toEqual(mem.nextCursor)
                cursor = pg.nextCursor
                if (cursor === null) break
              }
              expect(cursor).toBeNull()
            }
          }
        ),
        { numRuns: 60 }
      )
    }, 300_000)

    it("binds every value as a parameter and takes identifiers only from the spec", async () => {
      const q = parseOk({ s__contains: "'; DROP TABLE x; --", t__in: ["a", "%"], order_by: "-dt" })
      const compiled = await run((sql) =>
        Effect.succeed(sql`SELECT * FROM t WHERE ${compileWhere(sql, spec, q)} ORDER BY ${compileOrderBy(sql, spec, q)}`.compile())
      )
      const [text, params] = compiled
      expect(text).not.toContain("DROP")
      expect(params).toEqual(["%'; DROP TABLE x; --%", "a", "%"])
      expect(text).toContain(`"s" COLLATE "C" LIKE $1::text`)
      expect(text).toContain(`ORDER BY "dt" DESC, "id" ASC`)
    })
  })

const suffix = () => randomBytes(4).toString("hex")

differential("FilterSql on PostgreSQL", () => ({
  layer: PgClient.layer({ url: Redacted.make(DATABASE_URL), maxConnections: 2, connectTimeout: "60 seconds" }),
  schema: `filter_sql_${suffix()}`
}))

differential("FilterSql on PGlite", () => ({
  layer: PgliteClient.layer({}),
  schema: `filter_sql_${suffix()}`
}))
