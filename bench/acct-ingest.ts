/**
 * Accounting ingest throughput on PostgreSQL: 20,000 concurrent sessions sending Interim-Updates,
 * each record built (`makeAccountingRecord`, Gigawords, FreeRADIUS unique id), folded, and written
 * through `PgUsageStore` (sessions from its cache or a FOR UPDATE read, the fold, version-checked multi-row
 * session updates / inserts, HOUR + PERIOD bucket updates — one transaction per batch of group commit,
 * 8 writers, the accounting server's default). Baseline in the same run:
 * row-at-a-time INSERT of the same records (one statement each, same concurrency).
 * Prints `bench acct-ingest`, `ratio acct-ingest-vs-row-insert`, `bench acct-cpu` (CPU per record
 * of this process and of the PostgreSQL backends: comparable across runs on a busy machine, unlike
 * the rate) and `bench acct-lost` (sessions whose stored counters and buckets do not match what was
 * sent, counted from the rows after the run). `ACCT_BENCH_WRITERS` sets the writer count (default 8),
 * `ACCT_BENCH_BASELINE_RECORDS` the baseline's size (default 20,000; small for quick profiling runs).
 *
 * `npx tsx bench/acct-ingest.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
 * a fresh database is created and dropped).
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { SqlClient } from "@effect/sql"
import * as Reactivity from "@effect/experimental/Reactivity"
import { DateTime, Effect, Layer, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import {
  type AccountingRecord,
  BillingCycle,
  CreateTemplate,
  type IngestItem,
  InternetSpec,
  makeAccountingRecord,
  ServiceCatalog,
  type ServiceId,
  ServiceUsage,
  TariffId,
  UsageConfig,
  defaultUsageSettings,
  UsageStore
} from "@isp-framework/core"
import { Migrations, PgliteClient, PgUsageStore, PostgresLayer } from "@isp-framework/adapters"

const adminUrl = process.env["DATABASE_URL"]?.trim() || "postgres://postgres@127.0.0.1:5432/test"
const SESSIONS = 20_000
const ROUNDS = Number(process.env["ACCT_BENCH_ROUNDS"] ?? 5)
const BATCH = Number(process.env["ACCT_BENCH_BATCH"] ?? 2_000)
const WRITERS = Number(process.env["ACCT_BENCH_WRITERS"] ?? 8)
const BASELINE_RECORDS = Number(process.env["ACCT_BENCH_BASELINE_RECORDS"] ?? 20_000)
const STORE_ONLY = process.env["ACCT_BENCH_STORE_ONLY"] === "1"
const cycle = Schema.decodeUnknownSync(BillingCycle)({ timeZone: "Europe/Berlin", period: "MONTHLY", anchorDate: "2026-01-01" })
const T0 = Date.parse("2026-03-10T10:00:00Z")

const serviceOf = (i: number) => `01900000-0000-7000-8000-${i.toString(16).padStart(12, "0")}` as ServiceId
const recordOf = (i: number, round: number) =>
  makeAccountingRecord({
    statusType: round === 0 ? "Start" : "Interim-Update",
    acctSessionId: `s${i}`,
    userName: `user${i}@isp`,
    nasIpAddress: "192.0.2.1",
    nasPort: i,
    inputOctets: (round * 1_000_000 * (1 + (i % 7))) % 4_294_967_296,
    inputGigawords: Math.floor((round * 1_000_000 * (1 + (i % 7))) / 4_294_967_296),
    outputOctets: round * 3_000_000,
    sessionTime: round * 300,
    eventTime: DateTime.unsafeMake(T0 + round * 300_000 + (i % 300) * 1000) as DateTime.Utc
  })

const program = Effect.gen(function*() {
  const admin = yield* PgClient.make({ url: Redacted.make(adminUrl), maxConnections: 1 })
  const name = `isp_bench_acct_${randomBytes(4).toString("hex")}`
  yield* Effect.acquireRelease(admin.unsafe(`CREATE DATABASE ${name}`), () => admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const sql = yield* PgClient.make({ url: Redacted.make(url.toString()), maxConnections: WRITERS + 2, ...PgliteClient.defaultTransforms })
  yield* Migrations.migrate().pipe(Effect.provideService(SqlClient.SqlClient, sql))
  const store = yield* PgUsageStore.make().pipe(Effect.provideService(SqlClient.SqlClient, sql))
  // The services the records belong to (PPPoE user names user<i>@isp), so that the timed path maps
  // every record to its service as the accounting server does: ServiceUsage.ingest resolves by
  // User-Name (through its cache; each name is looked up once), then hands the batch to the store.
  const ports = yield* Layer.build(PostgresLayer.layer.pipe(Layer.provide(Layer.succeed(SqlClient.SqlClient, sql))))
  // No mapping outlives a round: in production the resolver's cache (60 s) is shorter than the
  // interim interval (5 min), so every interim resolves its user name afresh.
  const usage = yield* ServiceUsage.pipe(
    Effect.provide(ServiceUsage.Default.pipe(
      Layer.provide(Layer.succeedContext(ports)),
      Layer.provide(Layer.succeed(UsageStore, store)),
      Layer.provide(Layer.succeed(UsageConfig, { ...defaultUsageSettings, resolverCacheSeconds: 0 }))
    ))
  )
  const template = yield* ServiceCatalog.pipe(
    Effect.flatMap((catalog) => catalog.create(new CreateTemplate({
      serviceType: "INTERNET", name: "bench-fiber", displayName: "Bench fiber", tariffId: TariffId.make("bench-tariff"),
      internet: new InternetSpec({ downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000 })
    }))),
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

  // Baseline: row-at-a-time INSERT of accounting rows.
  yield* sql`CREATE TABLE baseline_acct (session_id text, status text, input_bytes numeric, output_bytes numeric, session_time int, event_time timestamptz)`
  const b0 = performance.now()
  yield* Effect.forEach(Array.from({ length: BASELINE_RECORDS }, (_, k) => k), (k) => {
    const r = recordOf(k % SESSIONS, 1)
    return sql`INSERT INTO baseline_acct VALUES (${r.acctUniqueSessionId}, ${r.statusType}, ${r.inputBytes.toString()}, ${r.outputBytes.toString()}, ${r.sessionTime}, ${new Date(r.eventTime.epochMillis)})`
  }, { concurrency: WRITERS, discard: true })
  const baselineRate = BASELINE_RECORDS / ((performance.now() - b0) / 1000)

  // CPU time of the PostgreSQL backends serving this database (Linux /proc, same machine only):
  // with the machine shared, CPU per record compares runs better than wall-clock rate.
  const backendCpuMs = Effect.map(
    sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
    (rows) => {
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
    }
  )
  // Warm every pool connection so the backends exist before the first reading.
  yield* Effect.forEach(Array.from({ length: WRITERS }, (_, k) => k), () => sql`SELECT pg_sleep(0.05)`, { concurrency: WRITERS, discard: true })
  const pg0 = yield* backendCpuMs
  const cpu0 = process.cpuUsage()

  // The ingest: every session sends ROUNDS records; rounds interleave like 20,000 live sessions.
  let total = 0
  const t0 = performance.now()
  // One continuous stream, as a live server sees it: round after round of every session's interim,
  // cut into batches that WRITERS writers take in turn (no pause between rounds). Each batch is built
  // when a writer takes it (inside the timed path: decoding is part of ingest), so building one batch
  // overlaps with the other writers' round trips.
  const batches = Array.from({ length: ROUNDS }, (_, round) =>
    Array.from({ length: Math.ceil(SESSIONS / BATCH) }, (_, k) => ({ round, first: k * BATCH }))).flat()
  yield* Effect.forEach(batches, ({ first, round }) =>
    Effect.suspend(() => {
      const last = Math.min(SESSIONS, first + BATCH)
      total += last - first
      if (STORE_ONLY) {
        // The store alone, records already mapped to their services (ACCT_BENCH_STORE_ONLY=1).
        const batch: Array<IngestItem> = []
        for (let k = first; k < last; k++) batch.push({ record: recordOf(k, round), serviceId: serviceOf(k), customerId: `c${k}`, cycle })
        return Effect.asVoid(store.ingest(batch))
      }
      const records: Array<AccountingRecord> = []
      for (let k = first; k < last; k++) records.push(recordOf(k, round))
      return Effect.asVoid(usage.ingest(records))
    }), { concurrency: WRITERS, discard: true })
  const seconds = (performance.now() - t0) / 1000
  const rate = total / seconds
  const cpu = process.cpuUsage(cpu0)
  const pg1 = yield* backendCpuMs

  // Lost = sessions whose stored counters or PERIOD bucket differ from the last interim sent.
  const rows = yield* sql`
    SELECT count(*)::int AS n FROM accounting_sessions s
    LEFT JOIN usage_buckets b ON b.service_id = s.service_id AND b.granularity = 'PERIOD'
    WHERE s.segments IS NOT NULL AND s.input_bytes = b.bytes_in AND s.output_bytes = b.bytes_out`
  const expectedOk = SESSIONS
  const okSessions = rows[0]!.n as number
  const [{ n: stored }] = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM accounting_sessions WHERE segments IS NOT NULL`) as [{ n: number }]
  const lastIn = (i: number) => BigInt((ROUNDS - 1) * 1_000_000 * (1 + (i % 7)))
  const [{ s: sumIn }] = (yield* sql<{ s: string | null }>`SELECT sum(bytes_in)::text AS s FROM usage_buckets WHERE granularity = 'PERIOD'`) as [{ s: string | null }]
  let want = 0n
  for (let i = 0; i < SESSIONS; i++) want += lastIn(i)
  const lost = (expectedOk - okSessions) + (SESSIONS - stored)
  console.log(`bench acct-ingest${STORE_ONLY ? "-store" : ""}: ${Math.round(rate)} records/s (${total} records, ${SESSIONS} sessions, batch ${BATCH}, ${WRITERS} writers, ${seconds.toFixed(1)} s${STORE_ONLY ? ", the store alone" : ", through ServiceUsage.ingest"})`)
  console.log(`bench acct-row-insert: ${Math.round(baselineRate)} records/s (baseline, one INSERT per record)`)
  console.log(`ratio acct-ingest-vs-row-insert: ${(rate / baselineRate).toFixed(2)}`)
  const perRecord = (ms: number) => ((ms * 1000) / total).toFixed(1)
  console.log(`bench acct-cpu: node ${perRecord((cpu.user + cpu.system) / 1000)} us/record, postgres ${
    pg0 === null || pg1 === null ? "n/a" : `${perRecord(pg1 - pg0)} us/record`}`)
  console.log(`bench acct-lost: ${lost} records (bytes in buckets ${BigInt(sumIn ?? 0) === want ? "match" : "DIFFER"})`)
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Reactivity.layer))).catch((e) => {
  console.error(e)
  process.exit(1)
})
