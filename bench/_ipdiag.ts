import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Redacted, String as S, Either } from "effect"
import * as Reactivity from "@effect/experimental/Reactivity"
import { randomUUID } from "node:crypto"
import * as PgIpAllocator from "../packages/adapters/src/postgres/ip/PgIpAllocator.js"
import * as Migrations from "../packages/adapters/src/postgres/Migrations.js"
import { IpAllocator } from "../packages/core/src/ip/index.js"

const db = `ipdiag_${Date.now()}`
const main = Effect.gen(function*() {
  const admin = yield* PgClient.make({ url: Redacted.make("postgres://postgres@127.0.0.1:5432/test"), maxConnections: 1 })
  yield* admin.unsafe(`CREATE DATABASE ${db}`)
  const layer = PgIpAllocator.layer.pipe(Layer.provideMerge(Layer.effectDiscard(Migrations.migrate()).pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(`postgres://postgres@127.0.0.1:5432/${db}`), maxConnections: Number(process.env.CONNS ?? 10), transformQueryNames: S.camelToSnake, transformResultNames: S.snakeToCamel })))))
  yield* Effect.gen(function*() {
    const ips = yield* IpAllocator
    const pool = yield* ips.createPool({ name: "x", cidr: process.env.CIDR ?? "172.20.0.0/23" })
    const n = Number(process.env.N ?? 510)
    const t0 = Date.now()
    const r = yield* Effect.all(Array.from({ length: n }, () => Effect.either(ips.allocate({ poolId: pool.id, serviceId: randomUUID() as never, customerId: "c" as never }))), { concurrency: Number(process.env.C ?? 32) })
    console.log("ok", r.filter(Either.isRight).length, "ms", Date.now() - t0)
  }).pipe(Effect.provide(layer))
  if (!process.env.KEEP) yield* admin.unsafe(`DROP DATABASE ${db} WITH (FORCE)`)
  console.log(db)
}).pipe(Effect.scoped, Effect.provide(Reactivity.layer))
Effect.runPromise(main).catch((e) => { console.error(e); process.exit(1) })
