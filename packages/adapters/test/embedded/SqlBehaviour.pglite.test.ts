import { expect, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestDatabase from "../support/TestDatabase.js"
import { sqlBehaviour } from "./SqlBehaviour.js"

layer(TestDatabase.layerPglite(), { excludeTestServices: true })("SQL behaviour on PGlite", (it) => {
  sqlBehaviour(it)

  it.effect("reports kind pglite", () =>
    Effect.gen(function*() {
      const info = yield* TestDatabase.TestDatabaseInfo
      expect(info).toEqual({ kind: "pglite" })
    }))

  it.effect("a query from another fiber waits for an open transaction instead of joining it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE tx_isolation (id int4 PRIMARY KEY)`
      const inTransaction = yield* Effect.makeLatch()
      const tx = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO tx_isolation VALUES (1)`
        yield* inTransaction.open
        yield* Effect.sleep("50 millis")
        return yield* Effect.fail("rollback")
      })).pipe(Effect.fork)
      yield* inTransaction.await
      // PGlite has one session: without the lock this insert would run inside the transaction above
      // and vanish with its rollback.
      yield* sql`INSERT INTO tx_isolation VALUES (2)`
      yield* Fiber.await(tx)
      const rows = yield* sql<{ id: number }>`SELECT id FROM tx_isolation ORDER BY id`
      expect(rows).toEqual([{ id: 2 }])
    }))

  it.effect("transactions from many fibers run one at a time (no lost updates)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE tx_counter (id int4 PRIMARY KEY, n int4 NOT NULL)`
      yield* sql`INSERT INTO tx_counter VALUES (1, 0)`
      const increment = sql.withTransaction(Effect.gen(function*() {
        const [row] = yield* sql<{ n: number }>`SELECT n FROM tx_counter WHERE id = 1`
        yield* Effect.sleep("1 millis")
        yield* sql`UPDATE tx_counter SET n = ${row!.n + 1} WHERE id = 1`
      }))
      const plainReads = Effect.forEach(Array.from({ length: 20 }), () => sql`SELECT n FROM tx_counter`, {
        concurrency: "unbounded"
      })
      yield* Effect.all([
        Effect.forEach(Array.from({ length: 40 }), () => increment, { concurrency: "unbounded", discard: true }),
        plainReads
      ], { concurrency: "unbounded" })
      const [row] = yield* sql<{ n: number }>`SELECT n FROM tx_counter WHERE id = 1`
      expect(row!.n).toBe(40)
    }))

  it.effect("an interrupted transaction releases the session", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE tx_interrupt (id int4)`
      const started = yield* Effect.makeLatch()
      const fiber = yield* sql.withTransaction(
        sql`INSERT INTO tx_interrupt VALUES (1)`.pipe(Effect.zipRight(started.open), Effect.zipRight(Effect.never))
      ).pipe(Effect.fork)
      yield* started.await
      yield* Fiber.interrupt(fiber)
      const rows = yield* sql`SELECT id FROM tx_interrupt`.pipe(Effect.timeout("5 seconds"))
      expect(rows).toEqual([])
    }))

  it.effect("sql.reserve holds the session for its scope", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const conn = yield* sql.reserve
      const rows = yield* conn.execute("SELECT $1::int4 AS n", [5], undefined)
      expect(rows).toEqual([{ n: 5 }])
      const other = yield* sql`SELECT 1 AS one`.pipe(Effect.timeoutOption("100 millis"))
      expect(other._tag).toBe("None") // still reserved
    }).pipe(Effect.scoped, Effect.zipRight(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1 AS one`)))
  )
})
