/**
 * Provisioning throughput end to end: `provisionInternet` → 4 workers run ACTIVATE (IP from the
 * Postgres allocator, FreeRADIUS SQL rows, RouterOS objects over node-routeros against the RouterOS
 * API test server, activation, billing) until every service is ACTIVE. Beside it, in the same run and
 * database, the raw IP-allocation rate of the same allocator (32 concurrent allocators), the step
 * every activation starts with; the ratio says how much of an allocation's speed survives the whole
 * workflow (database round trips for the workflow state, RADIUS rows and router commands).
 *
 * `npx tsx bench/provision.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; the
 * bench works in its own fresh database and drops it). `PROVISION_BENCH_N` services (default 300);
 * `PROVISION_BENCH_BATCH` / `_DB_POOL` / `_ROUTER_POOL` tune workers' batch (16), SQL pool (20) and
 * router pool (8); `PROVISION_BENCH_STEPS=1` prints the mean time per step. Beside the rate it prints
 * CPU time and database transactions per activation, which a loaded machine moves far less.
 */
import { freshDatabaseUrl, pgLayer } from "./internal/FreshDatabase.js"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer, Logger, LogLevel, Schedule, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { FreeradiusSchema, Migrations, ProvisioningLayer } from "@isp-framework/adapters"
import { RouterOsTestServer } from "../packages/adapters/test/support/RouterOsTestServer.js"
import {
  CreateService,
  CreateTemplate,
  type CustomerId,
  defaultEngineSettings,
  EngineConfig,
  IpAllocator,
  ServiceCatalog,
  ServiceProvisioning,
  type ServiceId,
  Worker
} from "@isp-framework/core"

const { freeradiusSchema } = FreeradiusSchema

const N = Number(process.env["PROVISION_BENCH_N"] ?? 300)
const IP_N = 2_000
const IP_CONCURRENCY = 32
const WORKERS = 4
// Tunables (defaults are what `npm run bench` measures).
const BATCH = Number(process.env["PROVISION_BENCH_BATCH"] ?? 16)
const DB_POOL = Number(process.env["PROVISION_BENCH_DB_POOL"] ?? 20)
const ROUTER_POOL = Number(process.env["PROVISION_BENCH_ROUTER_POOL"] ?? 8)

const rate = (n: number, ms: number) => (n / ms) * 1000

const ipAllocRate = Effect.gen(function*() {
  const ips = yield* IpAllocator
  const pool = yield* ips.createPool({ name: "bench-ip", cidr: "10.120.0.0/20", quarantineSeconds: 0 })
  const run = (n: number) =>
    Effect.gen(function*() {
      let next = 0
      const loop: Effect.Effect<void> = Effect.suspend(() => {
        const i = next++
        if (i >= n) return Effect.void
        return ips.allocate({ poolId: pool.id, serviceId: randomUUID() as ServiceId, customerId: "bench" as CustomerId }).pipe(
          Effect.orDie,
          Effect.zipRight(loop)
        )
      })
      const start = performance.now()
      yield* Effect.all(Array.from({ length: IP_CONCURRENCY }, () => loop), { concurrency: "unbounded", discard: true })
      return performance.now() - start
    })
  yield* run(200) // warm-up
  return rate(IP_N, yield* run(IP_N))
})

const provisionRate = Effect.gen(function*() {
  const ips = yield* IpAllocator
  const catalog = yield* ServiceCatalog
  const provisioning = yield* ServiceProvisioning
  const sql = yield* SqlClient.SqlClient
  const pool = yield* ips.createPool({ name: "bench-svc", cidr: "10.130.0.0/20", quarantineSeconds: 0 })
  const template = yield* catalog.create(Schema.decodeUnknownSync(CreateTemplate)({
    serviceType: "INTERNET",
    name: "bench-100",
    displayName: "Bench 100",
    tariffId: "tariff-bench",
    internet: { downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000, ipPoolId: pool.id }
  }))
  const request = (i: number) =>
    Schema.decodeUnknownSync(CreateService)({
      customerId: `bench-${i}`,
      templateId: template.id,
      connectionType: "PPPOE",
      pppoeUsername: `bench${i}@isp.net`,
      pppoePassword: `pw-${i}`,
      routerId: "bng-1"
    })
  const waitAll = (total: number) =>
    Effect.gen(function*() {
      for (;;) {
        const [row] = yield* sql<{ active: number; failed: number }>`
          SELECT count(*) FILTER (WHERE status = 'ACTIVE')::int AS active,
                 count(*) FILTER (WHERE status = 'FAILED')::int AS failed
          FROM customer_services`
        if (row!.failed > 0) return yield* Effect.dieMessage(`${row!.failed} activations FAILED`)
        if (row!.active >= total) return
        yield* Effect.sleep("10 millis")
      }
    })
  return yield* Effect.scoped(Effect.gen(function*() {
    yield* Worker.startMany(WORKERS, { pollInterval: "10 millis", batchSize: BATCH, prefix: "bench" })
    // Warm-up: connections to the router and the database, JIT.
    yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => provisioning.provisionInternet(request(-1 - i)), { concurrency: 20 })
    yield* waitAll(20)
    const [before] = yield* sql<{ xacts: number }>`
      SELECT (xact_commit + xact_rollback)::int AS xacts FROM pg_stat_database WHERE datname = current_database()`
    const cpu = process.cpuUsage()
    const start = performance.now()
    yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), (i) => provisioning.provisionInternet(request(i)), {
      concurrency: 50,
      discard: true
    })
    yield* waitAll(N + 20)
    const elapsed = performance.now() - start
    const used = process.cpuUsage(cpu)
    yield* Effect.sleep("1 second") // PostgreSQL publishes a backend's statistics after it goes idle (≤ 1 s)
    const [after] = yield* sql<{ xacts: number }>`
      SELECT (xact_commit + xact_rollback)::int AS xacts FROM pg_stat_database WHERE datname = current_database()`
    // Figures that the machine's load moves much less than the rate: the process's CPU time and the
    // database transactions (statements outside a transaction count one each) per activation.
    console.log(`bench provision-cpu: ${((used.user + used.system) / 1000 / N).toFixed(2)} ms CPU/activation`)
    console.log(`bench provision-db: ${((after!.xacts - before!.xacts) / N).toFixed(1)} transactions/activation`)
    if (process.env["PROVISION_BENCH_STEPS"] !== undefined) {
      // Where the time goes: mean wall time per step, and the wait between steps.
      const rows = yield* sql<{ name: string; ms: number }>`
        SELECT s->>'name' AS name,
               avg(extract(epoch FROM ((s->>'finishedAt')::timestamptz - (s->>'startedAt')::timestamptz)) * 1000)::float AS ms
        FROM provisioning_workflows, jsonb_array_elements(steps) s GROUP BY 1 ORDER BY 2 DESC`
      const [total] = yield* sql<{ ms: number }>`
        SELECT avg(extract(epoch FROM (finished_at - created_at)) * 1000)::float AS ms FROM provisioning_workflows`
      console.error(rows.map((r) => `${r.name}: ${r.ms.toFixed(1)} ms`).join(", "), `| workflow: ${total!.ms.toFixed(0)} ms`)
    }
    return rate(N, elapsed)
  }))
})

const main = Effect.gen(function*() {
  const url = yield* freshDatabaseUrl("isp_bench_provision")
  const router = yield* Effect.acquireRelease(Effect.promise(() => RouterOsTestServer.start()), (s) => Effect.promise(() => s.stop()))

  const Sql = pgLayer(url, DB_POOL)
  const Db = Layer.effectDiscard(Effect.zipRight(Migrations.migrate(), freeradiusSchema)).pipe(Layer.provideMerge(Sql))
  const App = ProvisioningLayer.layer({
    radius: "sql",
    routers: { "bng-1": { host: router.host, port: router.port, user: "admin", password: "secret", poolSize: ROUTER_POOL } },
    nas: "simulated"
  }).pipe(
    Layer.provideMerge(Layer.succeed(EngineConfig, { ...defaultEngineSettings, backoff: Schedule.spaced("50 millis") })),
    Layer.provideMerge(Db),
    Layer.provide(Reactivity.layer)
  )
  const [ip, provision] = yield* Effect.all([ipAllocRate, provisionRate]).pipe(Effect.provide(App))
  const routerObjects = router.table("/queue/simple").length
  if (routerObjects !== N + 20) return yield* Effect.dieMessage(`router holds ${routerObjects} queues, expected ${N + 20}`)
  console.log(`bench provision: ${provision.toFixed(1)} activations/s`)
  console.log(`bench provision-ip-alloc: ${Math.round(ip)} allocs/s`)
  console.log(`ratio provision-vs-ip-alloc: ${(provision / ip).toFixed(3)}`)
})

Effect.runPromise(main.pipe(Effect.scoped, Effect.provide(Reactivity.layer), Logger.withMinimumLogLevel(LogLevel.Warning))).catch((e) => {
  console.error(e)
  process.exit(1)
})
