/**
 * The Done-means concurrency test of issue 4, on real PostgreSQL only (PGlite is one session, so it
 * cannot show lock contention): two "app instances" (separate allocators, each with its own pool of
 * 8 connections) race 400 allocations for a 250-address pool.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, String as Str } from "effect"
import { randomUUID } from "node:crypto"
import { type CustomerId, IpAllocator, type PoolId, type ServiceId } from "@isp-framework/core"
import * as PgIpAllocator from "../../../src/postgres/ip/PgIpAllocator.js"
import * as TestDatabase from "../../support/TestDatabase.js"

const customerId = "cust-race" as CustomerId

/** A separate allocator over its own connection pool to the test database: one "app instance". */
const instance = (url: string) =>
  Layer.build(
    PgIpAllocator.layer.pipe(
      Layer.provide(PgClient.layer({
        url: Redacted.make(url),
        maxConnections: 8,
        connectTimeout: "60 seconds",
        transformQueryNames: Str.camelToSnake,
        transformResultNames: Str.snakeToCamel
      }))
    )
  ).pipe(Effect.map((ctx) => ctx.unsafeMap.get(IpAllocator.key) as IpAllocator))

const duplicates = (poolId: PoolId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ address: string }>`
      SELECT address FROM ip_assignments
      WHERE pool_id = ${poolId} AND released_at IS NULL
      GROUP BY address HAVING count(*) > 1`)

describe.skipIf(!TestDatabase.realPostgresAvailable())("real PostgreSQL", () => {
  layer(TestDatabase.layerPg(), { excludeTestServices: true, timeout: "120 seconds" })("IP allocation under contention", (it) => {
    it.scoped("400 concurrent allocations on 250 addresses: 250 distinct, 150 PoolExhausted, no duplicate", () =>
      Effect.gen(function*() {
        const info = yield* TestDatabase.TestDatabaseInfo
        const sql = yield* SqlClient.SqlClient
        const a = yield* instance(info.url!)
        const b = yield* instance(info.url!)
        // 10.77.0.0/24 has 254 hosts; minus the gateway and three reserved addresses: 250.
        const pool = yield* a.createPool({
          name: "race",
          cidr: "10.77.0.0/24",
          gateway: "10.77.0.1",
          excludedAddresses: ["10.77.0.2", "10.77.0.3", "10.77.0.4"],
          quarantineSeconds: 1
        })
        expect((yield* b.utilisation(pool.id)).total).toBe(250n)

        const attempt = (ips: IpAllocator) =>
          Effect.either(ips.allocate({ poolId: pool.id, serviceId: randomUUID() as ServiceId, customerId }))
        const results = yield* Effect.all(
          Array.from({ length: 400 }, (_, i) => attempt(i % 2 === 0 ? a : b)),
          { concurrency: "unbounded" }
        )
        const won = results.filter(Either.isRight).map((r) => r.right)
        const lost = results.filter(Either.isLeft).map((r) => r.left)
        expect(won.length).toBe(250)
        expect(new Set(won.map((x) => x.address)).size).toBe(250)
        expect(lost.length).toBe(150)
        expect(lost.every((e) => e._tag === "PoolExhausted" && e.poolId === pool.id)).toBe(true)
        expect(yield* duplicates(pool.id)).toEqual([])
        const [live] = yield* sql<{ n: string }>`
          SELECT count(*) AS n FROM ip_assignments WHERE pool_id = ${pool.id} AND released_at IS NULL`
        expect(Number(live!.n)).toBe(250)

        // Release 10: nobody gets them during quarantine; afterwards exactly 10 new allocations succeed.
        const released = won.slice(0, 10)
        yield* Effect.forEach(released, (x) => (x.id.charCodeAt(0) % 2 ? a : b).release({ assignmentId: x.id }), {
          concurrency: "unbounded"
        })
        expect((yield* a.utilisation(pool.id)).quarantined).toBe(10n)
        expect(Either.isLeft(yield* attempt(b))).toBe(true)
        yield* Effect.sleep("1200 millis")
        const again = yield* Effect.all(
          Array.from({ length: 12 }, (_, i) => attempt(i % 2 === 0 ? a : b)),
          { concurrency: "unbounded" }
        )
        const reused = again.filter(Either.isRight).map((r) => r.right.address)
        expect(reused.length).toBe(10)
        expect(new Set(reused)).toEqual(new Set(released.map((x) => x.address)))
        expect(again.filter(Either.isLeft).map((r) => r.left._tag)).toEqual(["PoolExhausted", "PoolExhausted"])
        expect(yield* duplicates(pool.id)).toEqual([])
        const u = yield* b.utilisation(pool.id)
        expect([u.assigned, u.quarantined, u.free]).toEqual([250n, 0n, 0n])
      }))

    it.scoped("one service racing itself across instances gets one assignment", () =>
      Effect.gen(function*() {
        const info = yield* TestDatabase.TestDatabaseInfo
        const a = yield* instance(info.url!)
        const b = yield* instance(info.url!)
        const pool = yield* a.createPool({ name: "self", cidr: "10.78.0.0/24" })
        const serviceId = randomUUID() as ServiceId
        const results = yield* Effect.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).allocate({ poolId: pool.id, serviceId, customerId })),
          { concurrency: "unbounded" }
        )
        expect(new Set(results.map((r) => r.id)).size).toBe(1)
        expect((yield* a.utilisation(pool.id)).assigned).toBe(1n)
      }))

    it.scoped("concurrent static requests for one address: exactly one wins, the rest get AddressInUse", () =>
      Effect.gen(function*() {
        const info = yield* TestDatabase.TestDatabaseInfo
        const a = yield* instance(info.url!)
        const b = yield* instance(info.url!)
        const pool = yield* a.createPool({ name: "static-race", cidr: "10.79.0.0/23" })
        // One address in the materialised first block, one in the lazily materialised second.
        for (const address of ["10.79.0.9", "10.79.1.9"]) {
          const results = yield* Effect.all(
            Array.from({ length: 20 }, (_, i) =>
              Effect.either((i % 2 ? a : b).allocateStatic({ poolId: pool.id, serviceId: randomUUID() as ServiceId, customerId, address }))),
            { concurrency: "unbounded" }
          )
          expect(results.filter(Either.isRight).length).toBe(1)
          expect(results.filter(Either.isLeft).every((r) => r.left._tag === "AddressInUse")).toBe(true)
        }
        // Dynamic allocations racing through both blocks never take the static ones.
        const dyn = yield* Effect.all(
          Array.from({ length: 520 }, (_, i) =>
            Effect.either((i % 2 ? a : b).allocate({ poolId: pool.id, serviceId: randomUUID() as ServiceId, customerId }))),
          { concurrency: "unbounded" }
        )
        const got = dyn.filter(Either.isRight).map((r) => r.right.address)
        expect(got.length).toBe(508)
        expect(got).not.toContain("10.79.0.9")
        expect(got).not.toContain("10.79.1.9")
        expect(yield* duplicates(pool.id)).toEqual([])
      }))
  })
})
