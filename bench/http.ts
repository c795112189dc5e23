/**
 * `GET /v1/services?status=ACTIVE&limit=50` through the whole HTTP stack (auth, filter parsing,
 * repository, schema encoding) versus a bare `node:http` handler running the same SQL through the
 * same `pg` pool, in the same run, on a fresh PostgreSQL database with ~10k services; the HTTP stack
 * once with request tracing on and once with it off. autocannon over loopback.
 *
 * Prints `bench http-services: N req/s`, `ratio http-vs-bare: X`, `ratio http-vs-bare-untraced: X`.
 * Run: `npx tsx bench/http.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import * as PgClient from "@effect/sql-pg/PgClient"
import { CreateTemplate, InternetSpec, ServiceCatalog, ServiceProvisioning, ServiceQuery, TariffId } from "@isp-framework/core"
import autocannon from "autocannon"
import { Context, Effect, Layer, Redacted, String as Str } from "effect"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
// pg ships no types here (no @types/pg); the few calls used are typed locally.
// @ts-expect-error no declaration file
import pgModule from "pg"

interface PgQueryable {
  query: (text: string, params?: ReadonlyArray<unknown>) => Promise<{ rows: Array<Record<string, unknown>> }>
}
interface PgPool extends PgQueryable {
  end: () => Promise<void>
}
const pg = pgModule as {
  Client: new(o: { connectionString: string }) => PgQueryable & { connect: () => Promise<void>; end: () => Promise<void> }
  Pool: new(o: { connectionString: string; max: number }) => PgPool
}
import { Migrations } from "@isp-framework/adapters"
import { HttpLayer, Security } from "@isp-framework/http"
import { NetworkLive, PgPorts } from "../examples/server/Stack.js"
import { ServiceAlerts, ServiceUsage } from "../packages/http/src/internal/core.js"

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

const cannon = (url: string, seconds: number) =>
  new Promise<number>((resolve, reject) => {
    autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${TOKEN}` } },
      (err, result) => {
        if (err) return reject(err)
        if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`))
        resolve(result.requests.average)
      }
    )
  })

/** The bare baseline: same statement as FilterSql.searchPage compiles, same pool, plain JSON. */
const bareServer = (pool: PgPool) =>
  new Promise<{ url: string; close: () => void }>((resolve) => {
    const server = createServer(async (req, res) => {
      if (!req.headers.authorization?.startsWith("Bearer ")) {
        res.writeHead(401).end()
        return
      }
      const { rows } = await pool.query(
        "SELECT * FROM customer_services WHERE status = $1 ORDER BY created_at ASC, id ASC LIMIT 51",
        ["ACTIVE"]
      )
      const items = rows.slice(0, 50).map(({ pppoe_password: _p, ...row }) => {
        const out: Record<string, unknown> = {}
        for (const k of Object.keys(row)) out[Str.snakeToCamel(k)] = row[k]
        return out
      })
      const body = JSON.stringify({ items, next_cursor: rows.length > 50 ? String(items[49]!["id"]) : null })
      res.writeHead(200, { "content-type": "application/json" }).end(body)
    })
    server.listen(0, "127.0.0.1", () => {
      const a = server.address() as { port: number }
      resolve({ url: `http://127.0.0.1:${a.port}`, close: () => server.close() })
    })
  })

class Port extends Context.Tag("bench/Port")<Port, number>() {}

const apiServer = (tracing: boolean) =>
  Layer.effect(Port, Effect.map(HttpServer.HttpServer, (s) => (s.address as HttpServer.TcpAddress).port)).pipe(
    Layer.provideMerge(
      HttpLayer.layer({ logger: false, docs: false, tracing }).pipe(
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
  const pool = new pg.Pool({ connectionString: dbUrl, max: 10 })
  const client = yield* PgClient.fromPool({
    acquire: Effect.acquireRelease(Effect.succeed(pool as any), (p: PgPool) => Effect.promise(() => p.end())),
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel
  }).pipe(Effect.provide(Reactivity.layer))
  const sqlLayer = Layer.succeed(SqlClient.SqlClient, client)
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
  const bare = yield* Effect.acquireRelease(Effect.promise(() => bareServer(pool)), (b) => Effect.sync(b.close))

  const urls = { bare: bare.url + PATH, traced: `http://127.0.0.1:${traced}${PATH}`, untraced: `http://127.0.0.1:${untraced}${PATH}` }
  // BENCH_HTTP_ONLY=bare|traced|untraced: load one server only (for profiling with --cpu-prof).
  const only = process.env["BENCH_HTTP_ONLY"] as keyof typeof urls | undefined
  if (only !== undefined && only in urls) {
    const rps = yield* Effect.promise(() => cannon(urls[only], DURATION))
    console.log(`bench http-${only}: ${rps.toFixed(0)} req/s`)
    return
  }
  // Warm up JITs and the pool, then measure each in turn.
  for (const url of Object.values(urls)) yield* Effect.promise(() => cannon(url, 2))
  const bareRps = yield* Effect.promise(() => cannon(urls.bare, DURATION))
  const tracedRps = yield* Effect.promise(() => cannon(urls.traced, DURATION))
  const untracedRps = yield* Effect.promise(() => cannon(urls.untraced, DURATION))
  console.log(`bench http-bare: ${bareRps.toFixed(0)} req/s`)
  console.log(`bench http-services: ${tracedRps.toFixed(0)} req/s`)
  console.log(`bench http-services-untraced: ${untracedRps.toFixed(0)} req/s`)
  console.log(`ratio http-vs-bare: ${(tracedRps / bareRps).toFixed(2)}`)
  console.log(`ratio http-vs-bare-untraced: ${(untracedRps / bareRps).toFixed(2)}`)
})

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
