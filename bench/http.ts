/**
 * `GET /v1/services?status=ACTIVE&limit=50` through the whole HTTP stack (auth, filter parsing,
 * repository, schema encoding) versus a bare `node:http` handler running the same SQL through the
 * same `pg` pool, in the same run, on a fresh PostgreSQL database with ~10k services; the HTTP stack
 * once with request tracing on, once off, and once with a stand-in span exporter installed;
 * autocannon over loopback, in interleaved rounds (ratios are medians of same-round ratios).
 *
 * Prints `bench http-services: N req/s`, `ratio http-vs-bare: X`, `ratio http-vs-bare-untraced: X`, and
 * `bench http-cpu: ours N us/req, bare M us/req` (CPU time of this process per request, medians
 * over rounds; steadier than req/s on a shared machine) with the PostgreSQL backends' CPU beside it,
 * and `bench http-gc: ...` (garbage-collection pauses per request).
 * Run: `npx tsx bench/http.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { CreateTemplate, InternetSpec, ServiceCatalog, ServiceProvisioning, ServiceQuery, TariffId } from "@isp-framework/core"
import autocannon from "autocannon"
import { Context, Effect, Layer, Redacted, String as Str } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import { PerformanceObserver } from "node:perf_hooks"
import pg from "pg"

type PgPool = pg.Pool
import { Migrations, PgReadPool, PgServiceRepository } from "@isp-framework/adapters"
import { HttpLayer, Security } from "@isp-framework/http"
import { NetworkLive, PgPorts } from "../examples/server/Stack.js"
import { ServiceAlerts, ServiceUsage } from "@isp-framework/core"
import { RecordingTracer } from "@isp-framework/core/fixtures"
import { countSteps } from "./internal/EffectSteps.js"

const SERVICES = 10_000
const DURATION = Number(process.env["BENCH_HTTP_SECONDS"] ?? 8)
const CONNECTIONS = 32
const TOKEN = `bench-admin-${randomBytes(12).toString("hex")}`
const PATH = "/v1/services?status=ACTIVE&limit=50"

const adminUrl = process.env["DATABASE_URL"]?.trim() || "postgres://postgres@127.0.0.1:5432/test"
const dbName = `isp_bench_http_${randomBytes(4).toString("hex")}`
const dbUrl = (() => {
  const u = new URL(adminUrl)
  u.pathname = `/${dbName}`
  return u.toString()
})()

/** One autocannon run: mean req/s and the number of requests that completed. */
const cannon = (url: string, seconds: number) =>
  new Promise<{ readonly rps: number; readonly requests: number }>((resolve, reject) => {
    autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${TOKEN}` } },
      (err, result) => {
        if (err) return reject(err)
        if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`))
        resolve({ rps: result.requests.average, requests: result.requests.total })
      }
    )
  })

/**
 * CPU time (user + system, ticks of 10 ms) of each PostgreSQL backend serving the bench database,
 * read from Linux /proc (same machine only); null where that cannot be read.
 */
const backendTicks = (pool: PgPool) =>
  Effect.promise(async () => {
    // A request interrupted at the end of a round has its statement cancelled (pg_cancel_backend);
    // the cancel can land on the next statement of that pooled connection, so try again.
    const query = () => pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    const { rows } = await query().catch(() => new Promise((r) => setTimeout(r, 50)).then(query)).catch(() => ({ rows: null }))
    if (rows === null) return null
    const ticks = new Map<number, number>()
    for (const r of rows) {
      try {
        const f = readFileSync(`/proc/${r.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
        ticks.set(r.pid, Number(f[11]) + Number(f[12])) // utime + stime (fields 14, 15)
      } catch {
        return null
      }
    }
    return ticks
  })

/** Microseconds of backend CPU between two readings (a backend born in between counts from 0). */
const backendMicros = (before: Map<number, number> | null, after: Map<number, number> | null) => {
  if (before === null || after === null) return null
  let ticks = 0
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0)
  return ticks * 10_000 // USER_HZ = 100
}

/**
 * The bare baseline: the very statement `ServiceRepository.searchJson` runs on PostgreSQL (same select
 * list, filter, order and limit; FilterSql.searchPage compiles it), same pool, the same JSON body
 * (items as the rows come, next cursor as base64url JSON of the last sort key), no framework.
 */
const BARE_SQL = `SELECT ${PgServiceRepository.serviceJsonColumns} FROM "customer_services"
  WHERE "status" = $1 ORDER BY "created_at" ASC, "id" ASC LIMIT 51`
const bareServer = (pool: PgPool) =>
  new Promise<{ url: string; close: () => void }>((resolve) => {
    const server = createServer(async (req, res) => {
      if (!req.headers.authorization?.startsWith("Bearer ")) {
        res.writeHead(401).end()
        return
      }
      const { rows } = await pool.query(BARE_SQL, ["ACTIVE"])
      const items = rows.slice(0, 50)
      const last = items[49]
      const next = rows.length > 50 && last !== undefined
        ? Buffer.from(JSON.stringify([last["createdAt"], last["id"]])).toString("base64url")
        : null
      const body = JSON.stringify({ items, next_cursor: next })
      res.writeHead(200, { "content-type": "application/json" }).end(body)
    })
    server.listen(0, "127.0.0.1", () => {
      const a = server.address() as { port: number }
      resolve({ url: `http://127.0.0.1:${a.port}`, close: () => server.close() })
    })
  })

class Port extends Context.Tag("bench/Port")<Port, number>() {}

// A stand-in for an exporter: with it installed the API records every span, so the "exporter" figure
// is what tracing costs when someone is watching. Span names are not kept (a long run would grow the list).
const recorder = RecordingTracer.make({ keepNames: false })

const apiServer = (tracing: boolean, exporter = false) =>
  Layer.effect(Port, Effect.map(HttpServer.HttpServer, (s) => (s.address as HttpServer.TcpAddress).port)).pipe(
    Layer.provideMerge(
      HttpLayer.layer({ logger: false, docs: false, tracing }).pipe(
        Layer.provide(exporter ? Layer.setTracer(recorder.tracer) : Layer.empty),
        Layer.provide(Security.layerTokens({ bootstrapAdminToken: Redacted.make(TOKEN) })),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
    )
  )

const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const catalog = yield* ServiceCatalog
  const template = yield* catalog.create(new CreateTemplate({
    serviceType: "INTERNET",
    name: "bench-fiber",
    displayName: "Bench fiber",
    tariffId: TariffId.make("bench-tariff"),
    internet: new InternetSpec({ downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000 })
  }))
  // 80 % ACTIVE, the rest spread over other statuses, one customer per 3 services.
  yield* sql.unsafe(`
    INSERT INTO customer_services (id, service_number, customer_id, template_id, tariff_id, service_type, status,
      connection_type, pppoe_username, pppoe_password, billing_model, download_speed_kbps, upload_speed_kbps,
      activated_at, created_at, updated_at, version)
    SELECT gen_random_uuid(), 'SVC-' || lpad(g::text, 7, '0'), 'cust-' || (g / 3), $1, 'bench-tariff', 'INTERNET',
      CASE WHEN g % 10 < 8 THEN 'ACTIVE' WHEN g % 10 = 8 THEN 'SUSPENDED' ELSE 'TERMINATED' END,
      'PPPOE', 'user' || g, 'pw' || g, 'POSTPAID', 100000, 20000,
      now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, now(), 1
    FROM generate_series(1, ${SERVICES}) g`, [template.id])
  yield* sql.unsafe("ANALYZE customer_services")
})

const main = Effect.gen(function*() {
  const admin = new pg.Client({ connectionString: adminUrl })
  yield* Effect.promise(() => admin.connect())
  yield* Effect.acquireRelease(
    Effect.promise(() => admin.query(`CREATE DATABASE ${dbName}`)),
    () => Effect.promise(() => admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).then(() => admin.end()))
  )
  // The client and its read pool on one pool, as Database.layerPg builds them; the bare handler uses
  // the same pool. (Dropping the database at the end ends its idle connections: the pool ignores that.)
  const { client, readPool } = yield* PgReadPool.make({
    url: Redacted.make(dbUrl),
    maxConnections: 10,
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel
  }).pipe(Effect.provide(Reactivity.layer))
  const pool = readPool.pool
  const sqlLayer = Layer.succeedContext(Context.make(SqlClient.SqlClient, client).pipe(Context.add(PgReadPool.PgReadPool, readPool)))
  yield* Effect.provide(Migrations.migrate(), sqlLayer)

  const core = Layer.mergeAll(
    ServiceQuery.Default,
    ServiceProvisioning.Default,
    ServiceCatalog.Default,
    ServiceUsage.Default,
    ServiceAlerts.Default
  ).pipe(
    Layer.provideMerge(PgPorts),
    Layer.provideMerge(NetworkLive),
    Layer.provideMerge(sqlLayer)
  )
  const coreContext = yield* Layer.build(core)
  yield* Effect.provide(seed, coreContext)

  const traced = yield* Effect.map(Layer.build(apiServer(true).pipe(Layer.provide(Layer.succeedContext(coreContext)))), Context.get(Port))
  const untraced = yield* Effect.map(Layer.build(apiServer(false).pipe(Layer.provide(Layer.succeedContext(coreContext)))), Context.get(Port))
  const exported = yield* Effect.map(Layer.build(apiServer(true, true).pipe(Layer.provide(Layer.succeedContext(coreContext)))), Context.get(Port))
  const bare = yield* Effect.acquireRelease(Effect.promise(() => bareServer(pool)), (b) => Effect.sync(b.close))

  const urls = { bare: bare.url + PATH, traced: `http://127.0.0.1:${traced}${PATH}`, untraced: `http://127.0.0.1:${untraced}${PATH}`,
    exporter: `http://127.0.0.1:${exported}${PATH}`
  }
  // BENCH_HTTP_ONLY=bare|traced|untraced: load one server only (for profiling with --cpu-prof).
  const only = process.env["BENCH_HTTP_ONLY"] as keyof typeof urls | undefined
  if (only !== undefined && only in urls) {
    const { rps } = yield* Effect.promise(() => cannon(urls[only], DURATION))
    console.log(`bench http-${only}: ${rps.toFixed(0)} req/s`)
    return
  }
  // Warm up JITs and the pool. Then rounds: each round measures every server in turn (rotating the
  // order), and each ratio is the median over rounds of (server / bare in the same round), so
  // load from elsewhere on the machine hits both sides of a ratio alike.
  for (const url of Object.values(urls)) yield* Effect.promise(() => cannon(url, 2))
  const names = ["bare", "traced", "untraced", "exporter"] as const
  // Six rounds of 3 s: on a shared machine more, shorter rounds give a steadier median than four of 4 s.
  const rounds = Number(process.env["BENCH_HTTP_ROUNDS"] ?? 6)
  const per = Math.max(2, Math.round(DURATION / 2.5))
  const results: Record<(typeof names)[number], Array<number>> = { bare: [], traced: [], untraced: [], exporter: [] }
  // CPU per request of each round: this process (both servers, the pg driver and autocannon itself
  // all live here, so the client's share is in both figures alike) and the PostgreSQL backends.
  // Time on other processes of the shared machine is not in these, which makes them steadier than req/s.
  const cpuPerReq: Record<(typeof names)[number], Array<number>> = { bare: [], traced: [], untraced: [], exporter: [] }
  const pgPerReq: Record<(typeof names)[number], Array<number>> = { bare: [], traced: [], untraced: [], exporter: [] }
  // Garbage collection pauses of this process per request (the share of its CPU that allocation
  // and object lifetimes cost; a body kept alive past its request shows here first).
  const gcPerReq: Record<(typeof names)[number], Array<number>> = { bare: [], traced: [], untraced: [], exporter: [] }
  let gcMillis = 0
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMillis += entry.duration
  })
  gcObserver.observe({ entryTypes: ["gc"] })
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!
      const pg0 = yield* backendTicks(pool)
      const cpu0 = process.cpuUsage()
      const gc0 = gcMillis
      const run = yield* Effect.promise(() => cannon(urls[name], per))
      const cpu = process.cpuUsage(cpu0)
      gcPerReq[name].push((gcMillis - gc0) * 1000 / run.requests)
      const pgMicros = backendMicros(pg0, yield* backendTicks(pool))
      results[name].push(run.rps)
      cpuPerReq[name].push((cpu.user + cpu.system) / run.requests)
      if (pgMicros !== null) pgPerReq[name].push(pgMicros / run.requests)
    }
  }
  if (recorder.ended() === 0) throw new Error("the exporter run recorded no spans")
  const median = (xs: ReadonlyArray<number>) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  const ratio = (name: (typeof names)[number]) => median(results[name].map((v, i) => v / results.bare[i]!))
  const bareRps = median(results.bare)
  const tracedRps = median(results.traced)
  const untracedRps = median(results.untraced)
  const exporterRps = median(results.exporter)
  console.log(`bench http-bare: ${bareRps.toFixed(0)} req/s`)
  console.log(`bench http-services: ${tracedRps.toFixed(0)} req/s`)
  console.log(`bench http-services-untraced: ${untracedRps.toFixed(0)} req/s`)
  console.log(`ratio http-vs-bare: ${ratio("traced").toFixed(2)}`)
  console.log(`ratio http-vs-bare-untraced: ${ratio("untraced").toFixed(2)}`)
  // "traced" above records spans only when an exporter is installed (none is, so they are free);
  // this line is tracing with a stand-in exporter recording every span.
  console.log(`bench http-services-exporter: ${exporterRps.toFixed(0)} req/s`)
  console.log(`ratio http-vs-bare-exporter: ${ratio("exporter").toFixed(2)}`)
  const us = (xs: ReadonlyArray<number>) => xs.length === 0 ? "n/a" : `${median(xs).toFixed(0)} us/req`
  console.log(`bench http-cpu: ours ${us(cpuPerReq.traced)}, bare ${us(cpuPerReq.bare)} (node process, autocannon included; untraced ${
    us(cpuPerReq.untraced)}, exporter ${us(cpuPerReq.exporter)})`)
  // Same-round ratio like the req/s ones: bare's CPU per request over ours (1 = as cheap as bare).
  console.log(`ratio http-cpu-bare-vs-ours: ${median(cpuPerReq.traced.map((v, i) => cpuPerReq.bare[i]! / v)).toFixed(2)}`)
  console.log(`bench http-pg-cpu: ours ${us(pgPerReq.traced)}, bare ${us(pgPerReq.bare)} (PostgreSQL backends; untraced ${
    us(pgPerReq.untraced)}, exporter ${us(pgPerReq.exporter)})`)
  gcObserver.disconnect()
  console.log(`bench http-gc: ours ${us(gcPerReq.traced)}, bare ${us(gcPerReq.bare)} (GC pauses of the node process; untraced ${
    us(gcPerReq.untraced)}, exporter ${us(gcPerReq.exporter)})`)

  // Effect run-loop steps per request: unlike time, the same from run to run on a noisy machine.
  // The use-case's share is counted by running it in-process with tracing off, as the server does.
  const served = yield* Effect.promise(() => countSteps(() => cannon(urls.untraced, 1)))
  const query = Context.get(coreContext, ServiceQuery)
  const calls = 200
  const stepsOf = (call: Effect.Effect<unknown>) =>
    Effect.promise(() =>
      countSteps(() =>
        Effect.runPromise(Effect.withTracerEnabled(Effect.forEach(Array.from({ length: calls }), () => call, { discard: true }), false))
      )
    )
  const direct = yield* stepsOf(Effect.orDie(query.searchJson({ status: "ACTIVE", limit: "50" })))
  const loop = yield* stepsOf(Effect.orDie(Effect.void)) // the loop's own steps, taken off
  if (served.steps === 0 || direct.steps === 0) throw new Error("the step counter saw no steps (Effect's scheduler changed?)")
  const perRequest = served.steps / served.result.requests
  const useCase = (direct.steps - loop.steps) / calls
  console.log(`bench http-effect-steps: ${perRequest.toFixed(0)} steps/req (use-case + SQL ${useCase.toFixed(0)}, HTTP stack ${
    (perRequest - useCase).toFixed(0)}; untraced)`)
})

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
