/**
 * What the accounting benches share: a fresh migrated database with SESSIONS live PPPoE services
 * (user<i>@isp), the Postgres usage store, `ServiceUsage` over them (mappings never cached across
 * batches, as in production, where the resolver's 60 s cache is shorter than the 5-minute interim
 * interval), the records of session i in round r, the PostgreSQL backends' CPU, and the loss check.
 */
import { SqlClient } from "@effect/sql"
import * as PgClient from "@effect/sql-pg/PgClient"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { readFileSync } from "node:fs"
import {
  CreateTemplate,
  defaultUsageSettings,
  InternetSpec,
  makeAccountingRecord,
  ServiceCatalog,
  type ServiceId,
  ServiceUsage,
  TariffId,
  UsageConfig,
  UsageStore
} from "@isp-framework/core"
import { Migrations, PgliteClient, PgUsageStore, PostgresLayer } from "@isp-framework/adapters"
import { freshDatabaseUrl } from "./FreshDatabase.js"

export const SESSIONS = 20_000
/** Interim records carry their session's counters after `round` intervals of 5 minutes. */
export const T0 = Date.parse("2026-03-10T10:00:00Z")
/** The billing period T0 falls in (monthly, UTC, anchored on the 1st). */
const PERIOD_START = "2026-03-01T00:00:00Z"

export const serviceOf = (i: number) => `01900000-0000-7000-8000-${i.toString(16).padStart(12, "0")}` as ServiceId

/** The attributes of session i's record in round r (round 0: Start), as a NAS would send them. */
export const fieldsOf = (i: number, round: number) => {
  const input = round * 1_000_000 * (1 + (i % 7))
  return {
    statusType: round === 0 ? "Start" as const : "Interim-Update" as const,
    acctSessionId: `s${i}`,
    userName: `user${i}@isp`,
    nasIpAddress: "192.0.2.1",
    nasPort: i,
    inputOctets: input % 4_294_967_296,
    inputGigawords: Math.floor(input / 4_294_967_296),
    outputOctets: round * 3_000_000,
    sessionTime: round * 300,
    eventMillis: T0 + round * 300_000 + (i % 300) * 1000
  }
}

/** Session i's record in round r, as the server decodes it (one literal: the decoder builds one too). */
export const recordOf = (i: number, round: number) => {
  const f = fieldsOf(i, round)
  return makeAccountingRecord({
    statusType: f.statusType,
    acctSessionId: f.acctSessionId,
    userName: f.userName,
    nasIpAddress: f.nasIpAddress,
    nasPort: f.nasPort,
    inputOctets: f.inputOctets,
    inputGigawords: f.inputGigawords,
    outputOctets: f.outputOctets,
    sessionTime: f.sessionTime,
    eventTime: DateTime.unsafeMake(f.eventMillis) as DateTime.Utc
  })
}

/** Hours of the previous billing period each service already has buckets for (`ACCT_BENCH_HISTORY_HOURS`). */
export const HISTORY_HOURS = Number(process.env["ACCT_BENCH_HISTORY_HOURS"] ?? 24)

/**
 * A live system's tables are not empty: every service already has the last HISTORY_HOURS hourly
 * buckets of February (the previous period) and February's PERIOD bucket, so each bucket the run
 * writes is found among others of its service, in an index as deep as history makes it.
 */
const seedHistory = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    if (HISTORY_HOURS <= 0) return
    yield* sql.unsafe(`
      INSERT INTO usage_buckets (service_id, granularity, period_start, period_end, bytes_in, bytes_out, session_seconds,
        day_start, day_end)
      SELECT s.id::text, 'HOUR', t.h, t.h + interval '1 hour', 100000000, 20000000, 3600,
        date_trunc('day', t.h), date_trunc('day', t.h) + interval '1 day'
      FROM customer_services s
      CROSS JOIN LATERAL (SELECT timestamptz '2026-03-01T00:00:00Z' - (k || ' hours')::interval AS h
        FROM generate_series(1, ${HISTORY_HOURS}) k) t
      UNION ALL
      SELECT s.id::text, 'PERIOD', timestamptz '2026-02-01T00:00:00Z', timestamptz '2026-03-01T00:00:00Z',
        ${HISTORY_HOURS} * 100000000::numeric, ${HISTORY_HOURS} * 20000000::numeric, ${HISTORY_HOURS} * 3600, NULL, NULL
      FROM customer_services s`)
    yield* sql.unsafe("ANALYZE")
  })

/** The database, the services (with a day of last period's buckets), the store and `ServiceUsage` (a scoped resource). */
export const setup = (prefix: string, connections: number) =>
  Effect.gen(function*() {
    const url = yield* freshDatabaseUrl(prefix)
    const sql = yield* PgClient.make({ url: Redacted.make(url), maxConnections: connections, ...PgliteClient.defaultTransforms })
    yield* Migrations.migrate().pipe(Effect.provideService(SqlClient.SqlClient, sql))
    const store = yield* PgUsageStore.make().pipe(Effect.provideService(SqlClient.SqlClient, sql))
    const ports = yield* Layer.build(PostgresLayer.layer.pipe(Layer.provide(Layer.succeed(SqlClient.SqlClient, sql))))
    const usage = yield* ServiceUsage.pipe(
      Effect.provide(ServiceUsage.Default.pipe(
        Layer.provide(Layer.succeedContext(ports)),
        Layer.provide(Layer.succeed(UsageStore, store)),
        // Mappings are never reused across batches (see the module doc); plans are, for a minute, as
        // with the default settings: a live system reads its handful of plans once a minute, not per batch.
        Layer.provide(Layer.succeed(UsageConfig, { ...defaultUsageSettings, resolverCacheSeconds: 0, templateCacheSeconds: 60 }))
      ))
    )
    const template = yield* ServiceCatalog.pipe(
      Effect.flatMap((catalog) =>
        catalog.create(new CreateTemplate({
          serviceType: "INTERNET",
          name: "bench-fiber",
          displayName: "Bench fiber",
          tariffId: TariffId.make("bench-tariff"),
          internet: new InternetSpec({ downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000 })
        }))
      ),
      Effect.provide(ServiceCatalog.Default.pipe(Layer.provide(Layer.succeedContext(ports))))
    )
    yield* sql.unsafe(`
      INSERT INTO customer_services (id, service_number, customer_id, template_id, tariff_id, service_type, status,
        connection_type, pppoe_username, pppoe_password, billing_model, download_speed_kbps, upload_speed_kbps,
        activated_at, created_at, updated_at, version)
      SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'SVC-' || lpad(g::text, 7, '0'), 'c' || g, $1,
        'bench-tariff', 'INTERNET', 'ACTIVE', 'PPPOE', 'user' || g || '@isp', 'pw', 'POSTPAID', 100000, 20000,
        '2026-01-01T00:00:00Z', now(), now(), 1
      FROM generate_series(0, ${SESSIONS - 1}) g`, [template.id])
    yield* seedHistory(sql)
    return { sql, store, usage }
  })

/**
 * CPU milliseconds of the PostgreSQL backends serving the current database (Linux /proc, same
 * machine only; null elsewhere): with the machine shared, CPU per record compares runs better than
 * the wall-clock rate.
 */
export const backendCpuMs = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`, (rows) => {
    let ticks = 0
    for (const r of rows) {
      try {
        const f = readFileSync(`/proc/${r.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
        ticks += Number(f[11]) + Number(f[12]) // utime + stime (fields 14, 15)
      } catch {
        return null // not local, or not Linux
      }
    }
    return ticks * 10 // USER_HZ = 100
  })

/**
 * Records lost after `rounds` rounds: sessions missing, or whose stored counters differ from their
 * PERIOD bucket; and whether the buckets' bytes add up to what the last interims carried.
 */
export const lostAfter = (sql: SqlClient.SqlClient, rounds: number) =>
  Effect.gen(function*() {
    const [{ n: ok }] = (yield* sql<{ n: number }>`
      SELECT count(*)::int AS n FROM accounting_sessions s
      JOIN usage_buckets b ON b.service_id = s.service_id AND b.granularity = 'PERIOD' AND b.period_start = ${PERIOD_START}::timestamptz
      WHERE s.segments IS NOT NULL AND s.input_bytes = b.bytes_in AND s.output_bytes = b.bytes_out`) as [{ n: number }]
    const [{ n: stored }] = (yield* sql<{ n: number }>`
      SELECT count(*)::int AS n FROM accounting_sessions WHERE segments IS NOT NULL`) as [{ n: number }]
    const [{ s: sumIn }] = (yield* sql<{ s: string | null }>`
      SELECT sum(bytes_in)::text AS s FROM usage_buckets WHERE granularity = 'PERIOD' AND period_start = ${PERIOD_START}::timestamptz`) as [{ s: string | null }]
    let want = 0n
    for (let i = 0; i < SESSIONS; i++) want += BigInt((rounds - 1) * 1_000_000 * (1 + (i % 7)))
    return { lost: (SESSIONS - ok) + (SESSIONS - stored), bytesMatch: BigInt(sumIn ?? 0) === want }
  })
