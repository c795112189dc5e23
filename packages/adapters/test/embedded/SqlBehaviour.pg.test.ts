import { describe, expect, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as PgliteClient from "../../src/embedded/PgliteClient.js"
import * as Migrations from "../../src/postgres/Migrations.js"
import * as TestDatabase from "../support/TestDatabase.js"
import { sqlBehaviour, typesQuery } from "./SqlBehaviour.js"

describe.skipIf(!TestDatabase.realPostgresAvailable())("real PostgreSQL", () => {
  layer(TestDatabase.layerPg(), { excludeTestServices: true })("SQL behaviour on PostgreSQL", (it) => {
    sqlBehaviour(it)

    it.effect("runs in its own fresh database", () =>
      Effect.gen(function*() {
        const info = yield* TestDatabase.TestDatabaseInfo
        const sql = yield* SqlClient.SqlClient
        expect(info.kind).toBe("pg")
        expect(info.databaseName).toMatch(/^isp_test_[0-9a-f]{12}$/)
        const [row] = yield* sql<{ name: string }>`SELECT current_database() AS name`
        expect(row!.name).toBe(info.databaseName)
      }))

    it.effect("PGlite returns exactly the rows PgClient returns", () =>
      Effect.gen(function*() {
        const onPg = yield* typesQuery
        const onPglite = yield* typesQuery.pipe(Effect.provide(PgliteClient.layer()))
        expect(onPglite).toEqual(onPg)
        for (const [key, value] of Object.entries(onPg[0]!)) {
          expect([key, value?.constructor?.name]).toEqual([key, (onPglite[0]![key] as object | null | undefined)?.constructor?.name])
        }
      }), 60_000)

    it.effect("concurrent migrators from separate processes' pools apply each migration once", () =>
      Effect.gen(function*() {
        const info = yield* TestDatabase.TestDatabaseInfo
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE concurrent_log (n int4)`
        const record = {
          "0001_slow": Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql`SELECT pg_sleep(0.2)`.pipe(Effect.zipRight(sql`INSERT INTO concurrent_log VALUES (1)`))),
          "0002_next": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`INSERT INTO concurrent_log VALUES (2)`)
        }
        // Each migrator has its own pool, like separate processes; the migrations table does not exist yet.
        const migrator = Migrations.migrateWith(record, { table: "concurrent_migrations" }).pipe(
          Effect.provide(PgClient.layer({ url: Redacted.make(info.url!), connectTimeout: "60 seconds" }))
        )
        const results = yield* Effect.all(Array.from({ length: 4 }, () => migrator), { concurrency: "unbounded" })
        expect(results.flat()).toEqual([[1, "slow"], [2, "next"]])
        const rows = yield* sql<{ n: number }>`SELECT n FROM concurrent_log ORDER BY n`
        expect(rows.map((r) => r.n)).toEqual([1, 2])
      }))
  })
})
