import { describe, expect, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import { Effect, Exit, Fiber, Option } from "effect"
import { RecordingTracer } from "@isp-framework/core/fixtures"
import type pg from "pg"
import * as PgReadPool from "../../src/postgres/PgReadPool.js"
import * as TestDatabase from "../support/TestDatabase.js"

/** A read pool over the real one that counts the statements sent to it. */
const counting = (readPool: PgReadPool.PgReadPool) => {
  let sent = 0
  const pool = new Proxy(readPool.pool, {
    get: (target, key) =>
      key === "query"
        ? (...args: Array<unknown>) => {
          sent++
          return (target.query as (...a: Array<unknown>) => unknown)(...args)
        }
        : Reflect.get(target, key)
  }) as pg.Pool
  return { readPool: PgReadPool.PgReadPool.of({ pool }), sent: () => sent }
}

describe.skipIf(!TestDatabase.realPostgresAvailable())("real PostgreSQL", () => {
  layer(TestDatabase.layerPg(), { excludeTestServices: true })("PgReadPool", (it) => {
    const context = Effect.gen(function*() {
      const sql = (yield* SqlClient.SqlClient).withoutTransforms()
      const readPool = yield* Effect.serviceOption(PgReadPool.PgReadPool)
      return { sql, readPool: Option.getOrThrowWith(readPool, () => new Error("TestDatabase.layerPg has no PgReadPool")) }
    })

    it.effect("returns exactly the rows the statement returns, types and nulls included", () =>
      Effect.gen(function*() {
        const { readPool, sql } = yield* context
        const statement = sql<Record<string, unknown>>`
          SELECT ${"9007199254740993"}::int8 AS big_value, ${7}::int4 AS small_value, ${"12.50"}::numeric AS price,
                 ${new Date("2024-03-01T10:20:30.456Z")}::timestamptz AS at_instant, ${[1, 2, 3]}::int8[] AS ids,
                 ${JSON.stringify({ burst: [1, 2] })}::jsonb AS policy, ${true}::bool AS active, NULL::text AS nothing,
                 g AS n
          FROM generate_series(1, 3) g ORDER BY g`
        const viaStatement = yield* statement
        const viaPool = yield* PgReadPool.execute(readPool, statement)
        expect(viaPool).toEqual(viaStatement)
        expect(viaPool.map((r) => r["n"])).toEqual([1, 2, 3])
        expect(viaPool[0]!["at_instant"]).toBeInstanceOf(Date)
      }))

    it.effect("sends the statement to the pool outside transactions, to the transaction's connection inside", () =>
      Effect.gen(function*() {
        const { readPool, sql } = yield* context
        const { readPool: watched, sent } = counting(readPool)
        yield* sql`CREATE TABLE read_pool_tx (n int4)`
        const read = PgReadPool.execute(watched, sql<{ n: number }>`SELECT n FROM read_pool_tx ORDER BY n`)

        expect(yield* read).toEqual([])
        expect(sent()).toBe(1)

        // Inside the transaction the uncommitted row is visible: the read ran on its connection.
        const inside = yield* sql.withTransaction(Effect.zipRight(sql`INSERT INTO read_pool_tx VALUES (1)`, read))
        expect(inside).toEqual([{ n: 1 }])
        expect(sent()).toBe(1)

        // Under a statement transformer too, the statement runs as itself.
        let transformed = 0
        yield* read.pipe(Statement.withTransformer((self) => Effect.sync(() => (transformed++, self))))
        expect(transformed).toBe(1)
        expect(sent()).toBe(1)

        expect(yield* read).toEqual([{ n: 1 }])
        expect(sent()).toBe(2)
      }))

    it.effect("while tracing, opens the sql.execute span the statement would, with the same attributes", () =>
      Effect.gen(function*() {
        const { readPool, sql } = yield* context
        const info = yield* TestDatabase.TestDatabaseInfo
        const statement = sql`SELECT ${1}::int4 AS one`
        const attributesOf = (run: Effect.Effect<unknown, unknown>) =>
          Effect.gen(function*() {
            const recorder = RecordingTracer.make({ keepSpans: true })
            yield* Effect.orDie(Effect.withTracer(run, recorder.tracer))
            const spans = recorder.spans.filter((s) => s.name === "sql.execute")
            expect(spans.map((s) => [s.kind, s.status._tag])).toEqual([["client", "Ended"]])
            return Object.fromEntries(spans[0]!.attributes)
          })
        const viaPool = yield* attributesOf(PgReadPool.execute(readPool, statement))
        expect(viaPool).toEqual(yield* attributesOf(statement))
        expect(viaPool).toMatchObject({
          "db.system.name": "postgresql",
          "db.namespace": info.databaseName,
          "db.query.text": "SELECT $1::int4 AS one",
          "server.port": info.port
        })
      }))

    it.effect("fails with a SqlError, not a defect, on a bad statement", () =>
      Effect.gen(function*() {
        const { readPool, sql } = yield* context
        const exit = yield* Effect.exit(PgReadPool.execute(readPool, sql`SELECT no_such_column FROM generate_series(1, 1)`))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          expect(failure?._tag).toBe("SqlError")
          expect(failure?.message).toBe("Failed to execute statement")
        }
      }))

    it.effect("an interrupted read leaves the pool usable", () =>
      Effect.gen(function*() {
        const { readPool, sql } = yield* context
        const fiber = yield* Effect.fork(PgReadPool.execute(readPool, sql`SELECT pg_sleep(0.3)`))
        yield* Effect.sleep("50 millis")
        yield* Fiber.interrupt(fiber)
        const rows = yield* PgReadPool.execute(readPool, sql<{ one: number }>`SELECT 1 AS one`)
        expect(rows).toEqual([{ one: 1 }])
      }))
  })
})
