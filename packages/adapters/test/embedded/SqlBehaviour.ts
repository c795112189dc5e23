/**
 * One SQL behaviour suite, run against PGlite and real PostgreSQL (see the two `.test.ts` files), so the
 * embedded client cannot drift from `PgClient`.
 */
import { expect } from "@effect/vitest"
import type { Vitest } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Migrations from "../../src/postgres/Migrations.js"
import type { TestDatabaseInfo } from "../support/TestDatabase.js"

type It = Vitest.MethodsNonLive<SqlClient.SqlClient | TestDatabaseInfo, true>

/** A query touching every type the framework stores; deterministic, so two databases can be compared. */
export const typesQuery = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql`
    SELECT
      ${"9007199254740993"}::int8 AS big_value,
      ${42n}::int8 AS bigint_param,
      ${7}::int4 AS small_value,
      ${"12.50"}::numeric AS price,
      ${2.5}::float8 AS ratio,
      ${new Date("2024-03-01T10:20:30.456Z")}::timestamptz AS at_instant,
      ${"2024-03-01"}::date AS on_day,
      ${"6b1f3c1e-8f7a-4b5e-9c2d-1a2b3c4d5e6f"}::uuid AS some_id,
      ${JSON.stringify({ rate_limit: "5M/5M", burst: [1, 2] })}::jsonb AS policy,
      ${"10.1.2.3"}::inet AS address,
      ${"2001:db8::/48"}::cidr AS prefix,
      ${[1, 2, 3]}::int8[] AS ids,
      ${true}::bool AS active,
      NULL::text AS nothing`
})

const fresh = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 10)}`

export const sqlBehaviour = (it: It) => {
  it.effect("binds parameters, sql.in, sql.insert with arrays and sql.unsafe", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = fresh("params")
      yield* sql`CREATE TABLE ${sql(table)} (id int4 PRIMARY KEY, display_name text NOT NULL, tags text[])`
      yield* sql`INSERT INTO ${sql(table)} ${
        sql.insert([
          { id: 1, displayName: "one", tags: ["a", "b"] },
          { id: 2, displayName: "it's \"two\"", tags: [] },
          { id: 3, displayName: "three", tags: null }
        ])
      }`
      const some = yield* sql<{ id: number; displayName: string }>`
        SELECT id, display_name FROM ${sql(table)} WHERE ${sql.in("id", [1, 2])} ORDER BY id`
      expect(some).toEqual([{ id: 1, displayName: "one" }, { id: 2, displayName: "it's \"two\"" }])
      const tags = yield* sql<{ tags: ReadonlyArray<string> | null }>`SELECT tags FROM ${sql(table)} ORDER BY id`
      expect(tags.map((r) => r.tags)).toEqual([["a", "b"], [], null])
      const unsafe = yield* sql.unsafe<{ displayName: string }>(
        `SELECT display_name FROM ${table} WHERE id = $1`,
        [3]
      )
      expect(unsafe).toEqual([{ displayName: "three" }])
      // Several statements without parameters run in one call (schema scripts), one row array each.
      const multi = yield* sql.unsafe(`SELECT 1 AS a; SELECT count(*)::int4 AS n FROM ${table}`)
      expect(multi).toEqual([[{ a: 1 }], [{ n: 3 }]])
      const updated = yield* sql`UPDATE ${sql(table)} SET ${sql.update({ displayName: "uno" })} WHERE id = ${1}
        RETURNING display_name`
      expect(updated).toEqual([{ displayName: "uno" }])
    }))

  it.effect("commits a transaction, and rolls it back when the effect fails", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = fresh("tx")
      yield* sql`CREATE TABLE ${sql(table)} (id int4 PRIMARY KEY)`
      yield* sql.withTransaction(sql`INSERT INTO ${sql(table)} (id) VALUES (1)`)
      const failed = yield* sql.withTransaction(
        Effect.zipRight(sql`INSERT INTO ${sql(table)} (id) VALUES (2)`, Effect.fail("boom" as const))
      ).pipe(Effect.either)
      expect(failed).toEqual(Either.left("boom"))
      // A statement error aborts and rolls back too.
      const duplicate = yield* sql.withTransaction(
        Effect.zipRight(
          sql`INSERT INTO ${sql(table)} (id) VALUES (3)`,
          sql`INSERT INTO ${sql(table)} (id) VALUES (1)`
        )
      ).pipe(Effect.flip)
      expect(duplicate._tag).toBe("SqlError")
      expect((duplicate.cause as { code?: string }).code).toBe("23505")
      const rows = yield* sql<{ id: number }>`SELECT id FROM ${sql(table)} ORDER BY id`
      expect(rows).toEqual([{ id: 1 }])
    }))

  it.effect("nested transactions are savepoints: an inner failure keeps the outer work", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = fresh("sp")
      yield* sql`CREATE TABLE ${sql(table)} (id int4 PRIMARY KEY)`
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO ${sql(table)} (id) VALUES (1)`
        yield* sql.withTransaction(
          Effect.zipRight(sql`INSERT INTO ${sql(table)} (id) VALUES (2)`, Effect.fail("inner"))
        ).pipe(Effect.ignore)
        yield* sql.withTransaction(sql`INSERT INTO ${sql(table)} (id) VALUES (3)`)
      }))
      const rows = yield* sql<{ id: number }>`SELECT id FROM ${sql(table)} ORDER BY id`
      expect(rows).toEqual([{ id: 1 }, { id: 3 }])
    }))

  it.effect("round-trips int8, numeric, timestamptz, date, uuid, jsonb, inet, cidr, arrays with node-postgres types", () =>
    Effect.gen(function*() {
      const [row] = yield* typesQuery
      expect(row).toEqual({
        bigValue: "9007199254740993", // int8 is a string: exact beyond 2^53
        bigintParam: "42",
        smallValue: 7,
        price: "12.50", // numeric is a string: exact decimals
        ratio: 2.5,
        atInstant: new Date("2024-03-01T10:20:30.456Z"),
        onDay: expect.any(Date),
        someId: "6b1f3c1e-8f7a-4b5e-9c2d-1a2b3c4d5e6f",
        policy: { rateLimit: "5M/5M", burst: [1, 2] }, // jsonb keys are camelCased too (PgClient default)
        address: "10.1.2.3",
        prefix: "2001:db8::/48",
        ids: ["1", "2", "3"],
        active: true,
        nothing: null
      })
    }))

  it.effect("stores and reads typed columns through sql.insert", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = fresh("typed")
      yield* sql`CREATE TABLE ${sql(table)} (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        octets_in int8 NOT NULL,
        seen_at timestamptz NOT NULL,
        attributes jsonb NOT NULL,
        framed_ip inet NOT NULL,
        delegated cidr)`
      const seenAt = new Date("2025-01-02T03:04:05.678Z")
      const [inserted] = yield* sql<{ id: string }>`INSERT INTO ${sql(table)} ${
        sql.insert({
          octetsIn: 5_000_000_000n,
          seenAt,
          attributes: JSON.stringify({ a: 1 }),
          framedIp: "100.64.0.9",
          delegated: "2001:db8:1::/56"
        })
      } RETURNING id`
      expect(inserted!.id).toMatch(/^[0-9a-f-]{36}$/)
      const rows = yield* sql`SELECT octets_in, seen_at, attributes, framed_ip, delegated FROM ${sql(table)}`
      expect(rows).toEqual([{
        octetsIn: "5000000000",
        seenAt,
        attributes: { a: 1 },
        framedIp: "100.64.0.9",
        delegated: "2001:db8:1::/56"
      }])
      const sum = yield* sql<{ total: string }>`SELECT sum(octets_in) AS total FROM ${sql(table)}`
      expect(sum).toEqual([{ total: "5000000000" }]) // sum(int8) is numeric: a string as well
    }))

  it.effect("migrations are applied once: running them again is a no-op", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      expect(yield* Migrations.migrate()).toEqual([])
      const table = fresh("mig")
      const log = fresh("miglog")
      yield* sql`CREATE TABLE ${sql(log)} (n int4)`
      const record = {
        "0001_first": sql`INSERT INTO ${sql(log)} VALUES (1)`,
        "0002_second": sql`INSERT INTO ${sql(log)} VALUES (2)`
      }
      expect(yield* Migrations.migrateWith(record, { table })).toEqual([[1, "first"], [2, "second"]])
      expect(yield* Migrations.migrateWith(record, { table })).toEqual([])
      expect(yield* Migrations.migrateWith({ ...record, "0003_third": sql`INSERT INTO ${sql(log)} VALUES (3)` }, { table }))
        .toEqual([[3, "third"]])
      const rows = yield* sql<{ n: number }>`SELECT n FROM ${sql(log)} ORDER BY n`
      expect(rows.map((r) => r.n)).toEqual([1, 2, 3])
    }))

  it.effect("a failing migration rolls back and is not recorded", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = fresh("migfail")
      const created = fresh("created")
      const result = yield* Migrations.migrateWith({
        "0001_ok": sql`CREATE TABLE ${sql(created)} (n int4)`,
        "0002_bad": sql`SELECT * FROM no_such_table_anywhere`
      }, { table }).pipe(Effect.exit)
      expect(result._tag).toBe("Failure")
      const exists = yield* sql<{ found: string | null }>`SELECT to_regclass(${created})::text AS found`
      expect(exists).toEqual([{ found: null }])
    }))

  it.effect("core migrations are recorded in isp_schema_migrations", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ migrationId: number; name: string }>`
        SELECT migration_id, name FROM ${sql(Migrations.coreTable)} ORDER BY migration_id`
      expect(rows[0]).toEqual({ migrationId: 1, name: "extensions" })
    }))
}
