/**
 * IP allocation throughput on real PostgreSQL with 32 concurrent allocators, beside a raw baseline
 * measured in the same run: one hand-written `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED
 * LIMIT 1)` over a pre-populated /24 through a plain pool.
 *
 * - Every pool runs the same rounds of 224 allocations, everything released between rounds
 *   (untimed; quarantine 0), so only the pool size differs: a /24 reuses its released addresses, a
 *   /16 and an IPv6 /40 delegating /56s keep taking fresh slots and so keep materialising blocks
 *   (that cost is timed). /16 ÷ /24 shows whether pool size matters.
 * - The raw baseline runs the very same rounds over a pre-populated /24 (reset between rounds).
 *
 * `npx tsx bench/ip-pool.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; the
 * bench works in its own fresh database and drops it).
 */
import { freshDatabaseUrl, pgLayer } from "./internal/FreshDatabase.js"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { Migrations, PgIpAllocator } from "@isp-framework/adapters"
import { IpAllocator } from "@isp-framework/core"
import type { CustomerId, PoolId, ServiceId } from "@isp-framework/core"

const CONCURRENCY = 32
const ROUND = 224
const ROUNDS = Number(process.env["IP_BENCH_ROUNDS"] ?? 12)
const TOTAL = ROUND * ROUNDS
const customerId = "bench" as CustomerId

/** Runs `n` tasks with `CONCURRENCY` workers; returns the elapsed milliseconds. */
const timed = <E, R>(n: number, task: (i: number) => Effect.Effect<unknown, E, R>) =>
  Effect.gen(function*() {
    let next = 0
    const worker = Effect.suspend(() => {
      const loop: Effect.Effect<void, E, R> = Effect.suspend(() => {
        const i = next++
        return i >= n ? Effect.void : Effect.zipRight(task(i), loop)
      })
      return loop
    })
    const start = performance.now()
    yield* Effect.all(Array.from({ length: CONCURRENCY }, () => worker), { concurrency: "unbounded", discard: true })
    return performance.now() - start
  })

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)

const allocatorRounds = (poolId: PoolId, rounds: number, releaseBetween: boolean) =>
  Effect.gen(function*() {
    const ips = yield* IpAllocator
    let ms = 0
    for (let r = 0; r < rounds; r++) {
      const services = Array.from({ length: ROUND }, () => randomUUID() as ServiceId)
      ms += yield* timed(ROUND, (i) => ips.allocate({ poolId, serviceId: services[i]!, customerId }))
      if (releaseBetween) yield* timed(ROUND, (i) => ips.release({ serviceId: services[i]! }))
    }
    return ms
  })

const rawRounds = (rounds: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    let ms = 0
    for (let r = 0; r < rounds; r++) {
      ms += yield* timed(ROUND, () =>
        sql`
          UPDATE raw_ip_free SET service_id = ${randomUUID()}, taken = true
          WHERE id = (SELECT id FROM raw_ip_free WHERE NOT taken ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING address`)
      yield* sql`UPDATE raw_ip_free SET taken = false, service_id = NULL WHERE taken`
    }
    return ms
  })

const program = Effect.gen(function*() {
  const ips = yield* IpAllocator
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE raw_ip_free (id serial PRIMARY KEY, address text NOT NULL, service_id uuid, taken boolean NOT NULL)`
  yield* sql`CREATE INDEX raw_ip_free_free_idx ON raw_ip_free (id) WHERE NOT taken`
  yield* sql`
    INSERT INTO raw_ip_free (address, taken)
    SELECT '10.200.0.' || n, false FROM generate_series(1, 254) AS n`

  const p24 = yield* ips.createPool({ name: "bench-24", cidr: "10.100.0.0/24", quarantineSeconds: 0 })
  const p16 = yield* ips.createPool({ name: "bench-16", cidr: "10.101.0.0/16", quarantineSeconds: 0 })
  const p40 = yield* ips.createPool({
    name: "bench-40",
    cidr: "2001:db8:100::/40",
    delegatedPrefixLength: 56,
    quarantineSeconds: 0
  })
  const warm = yield* ips.createPool({ name: "warm", cidr: "10.102.0.0/16", quarantineSeconds: 0 })

  // Warm-up: connections, plan caches, JIT.
  yield* allocatorRounds(warm.id, 2, false)
  yield* rawRounds(2)

  // Interleave all four so drift (autovacuum, checkpoints, other load on the machine) hits each alike.
  let raw = 0
  let v24 = 0
  let v16 = 0
  let v40 = 0
  for (let i = 0; i < 2; i++) {
    raw += yield* rawRounds(ROUNDS / 2)
    v24 += yield* allocatorRounds(p24.id, ROUNDS / 2, true)
    v16 += yield* allocatorRounds(p16.id, ROUNDS / 2, true)
    v40 += yield* allocatorRounds(p40.id, ROUNDS / 2, true)
  }

  const [dupes] = yield* sql<{ n: string }>`
    SELECT count(*) AS n FROM (
      SELECT pool_id, address FROM ip_assignments WHERE released_at IS NULL
      GROUP BY pool_id, address HAVING count(*) > 1) d`
  if (Number(dupes!.n) !== 0) return yield* Effect.dieMessage(`duplicate live addresses: ${dupes!.n}`)

  const r24 = rate(TOTAL, v24)
  const r16 = rate(TOTAL, v16)
  const r40 = rate(TOTAL, v40)
  const rRaw = rate(TOTAL, raw)
  console.log(`bench ip-alloc-v4-24: ${r24} allocs/s`)
  console.log(`bench ip-alloc-v4-16: ${r16} allocs/s`)
  console.log(`bench ip-alloc-v6-40: ${r40} allocs/s`)
  console.error(`(raw baseline /24: ${rRaw} allocs/s)`)
  console.log(`ratio ip-alloc-16-vs-24: ${(r16 / r24).toFixed(2)}`)
  console.log(`ratio ip-alloc-vs-raw: ${(r24 / rRaw).toFixed(2)}`)
})

/** The whole bench in a fresh database on `DATABASE_URL`'s server, dropped afterwards. */
export const run = () =>
  Effect.gen(function*() {
    const client = pgLayer(yield* freshDatabaseUrl("isp_bench_ip"), CONCURRENCY)
    const migrated = Layer.effectDiscard(Migrations.migrate()).pipe(Layer.provideMerge(client))
    yield* program.pipe(Effect.provide(PgIpAllocator.layer.pipe(Layer.provideMerge(migrated))))
  }).pipe(Effect.scoped, Effect.provide(Reactivity.layer))

if (import.meta.url === `file://${process.argv[1]}`) {
  Effect.runPromise(run()).then(
    () => process.exit(0),
    (e) => {
      console.error(e)
      process.exit(1)
    }
  )
}

