/**
 * `search` latency over 1,000,000 services on real PostgreSQL, beside the same hand-written SQL run
 * in the same process through the same pool.
 *
 * Three typical filter dicts, each with `include=template` (so each search is two statements: the
 * page, then one `IN (…)` lookup of the page's templates — the raw side runs the same two):
 * - `active-newest`: status=ACTIVE, order_by=-created_at, limit=50
 * - `customer`: customer_id=X (about 10 services), default order
 * - `range-page-2`: status__in=ACTIVE,SUSPENDED + created_at__range, order_by=created_at, second page
 *   (keyset cursor from the first)
 *
 * The path measured is the one an HTTP handler takes: filter dict -> `ServiceQuery.search` (parse,
 * compile, run, decode every row with the domain Schema, load the include). The raw side sends
 * text + parameters with `sql.unsafe` and does not decode.
 *
 * `npx tsx bench/search.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; works in
 * its own fresh database and drops it). SEARCH_BENCH_ROWS / SEARCH_BENCH_ITERATIONS override the size.
 */
import { freshDatabaseUrl, pgLayer } from "./internal/FreshDatabase.js"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import {
  FilterSql,
  Migrations,
  PgAlertRepository,
  PgIpAllocator,
  PgServiceRepository,
  PgTemplateRepository,
  PgWorkflowRepository
} from "@isp-framework/adapters"
import { FilterDict, ServiceQuery, TemplateRepository } from "@isp-framework/core"
import { makeTemplate } from "@isp-framework/core/fixtures"

const { parse, ServiceFilterSpec } = FilterDict
const { compileOrderBy, compileWhere } = FilterSql

const ROWS = Number(process.env["SEARCH_BENCH_ROWS"] ?? 1_000_000)
const ITERATIONS = Number(process.env["SEARCH_BENCH_ITERATIONS"] ?? 400)
const WARMUP = 50
const TEMPLATES = 20
const CUSTOMERS = Math.max(1, Math.floor(ROWS / 10))

const log = (s: string) => console.error(s)

/** Bulk load: one INSERT … SELECT per chunk over generate_series, chunks on two connections. */
const load = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const templates = yield* TemplateRepository
  for (let i = 0; i < TEMPLATES; i++) yield* Effect.orDie(templates.insert(makeTemplate({ name: `bench-${i}` })))
  const chunk = 100_000
  const chunks = Array.from({ length: Math.ceil(ROWS / chunk) }, (_, i) => [i * chunk + 1, Math.min(ROWS, (i + 1) * chunk)])
  yield* Effect.forEach(chunks, ([from, to]) =>
    sql.unsafe(`
      WITH t AS (SELECT id, tariff_id, (row_number() OVER (ORDER BY id)) - 1 AS k FROM service_templates)
      INSERT INTO customer_services (
        id, service_number, customer_id, template_id, tariff_id, service_type, status, suspension_reason,
        suspension_type, connection_type, pppoe_username, pppoe_password, mac_address, circuit_id, router_id,
        location, billing_model, download_speed_kbps, upload_speed_kbps, requested_ip, activated_at, suspended_at,
        terminated_at, contract_start, contract_end, created_at, updated_at, version)
      SELECT gen_random_uuid(), 'BX-' || lpad(g::text, 7, '0'), 'cust-' || (g % ${CUSTOMERS}), t.id, t.tariff_id,
        'INTERNET', s.status,
        CASE WHEN s.status = 'SUSPENDED' THEN 'NON_PAYMENT' END, CASE WHEN s.status = 'SUSPENDED' THEN 'FULL' END,
        'PPPOE', 'bx' || g, 'secret', NULL, NULL, 'bng-' || (g % 8), (ARRAY['north','south','east','west'])[1 + g % 4],
        'POSTPAID', 100000, 20000, NULL,
        CASE WHEN s.status <> 'PENDING' THEN c.at END, CASE WHEN s.status = 'SUSPENDED' THEN c.at END,
        CASE WHEN s.status = 'TERMINATED' THEN c.at END, NULL, NULL, c.at, c.at, 1
      FROM generate_series(${from}::int8, ${to}::int8) AS g
      JOIN t ON t.k = g % ${TEMPLATES}
      CROSS JOIN LATERAL (SELECT CASE
        WHEN (g * 7919) % 100 < 70 THEN 'ACTIVE' WHEN (g * 7919) % 100 < 80 THEN 'SUSPENDED'
        WHEN (g * 7919) % 100 < 85 THEN 'PENDING' ELSE 'TERMINATED' END AS status) s
      CROSS JOIN LATERAL (SELECT timestamptz '2023-01-01 00:00:00+00'
        + (g * interval '90 seconds') + (((g * 104729) % 60000) * interval '1 millisecond') AS at) c`), {
    concurrency: 2,
    discard: true
  })
  yield* sql`ANALYZE`
})

interface Case {
  readonly name: string
  readonly dict: Record<string, unknown>
  /** The same query written by hand: the page, then its templates. */
  readonly raw: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>
}

const templatesOf = (sql: SqlClient.SqlClient, rows: ReadonlyArray<Record<string, unknown>>) => {
  const ids = [...new Set(rows.map((r) => r["templateId"] as string))]
  if (ids.length === 0) return Effect.succeed([])
  return sql.unsafe(
    `SELECT * FROM service_templates WHERE id IN (${ids.map((_, i) => `$${i + 1}`).join(", ")})`,
    ids
  )
}

const rawPage = (sql: SqlClient.SqlClient, text: string, params: ReadonlyArray<unknown>) =>
  Effect.flatMap(sql.unsafe<Record<string, unknown>>(text, params), (rows) => templatesOf(sql, rows))

const cases = (sql: SqlClient.SqlClient, query: ServiceQuery) =>
  Effect.gen(function*() {
    // The middle fifth of the loaded time span (rows are 90 s apart from 2023-01-01).
    const base = Date.UTC(2023, 0, 1)
    const from = new Date(base + ROWS * 90_000 * 0.4).toISOString()
    const to = new Date(base + ROWS * 90_000 * 0.6).toISOString()
    const rangeDict = {
      status__in: "ACTIVE,SUSPENDED",
      created_at__range: `${from},${to}`,
      order_by: "created_at",
      limit: 50,
      include: "template"
    }
    const first = yield* query.search(rangeDict)
    const last = first.items[first.items.length - 1]!.service
    const customer = `cust-${Math.floor(CUSTOMERS / 3)}`
    const out: Array<Case> = [
      {
        name: "active-newest",
        dict: { status: "ACTIVE", order_by: "-created_at", limit: 50, include: "template" },
        raw: (sql) =>
          rawPage(sql, `SELECT * FROM customer_services WHERE status = $1 ORDER BY created_at DESC, id LIMIT 51`, [
            "ACTIVE"
          ])
      },
      {
        name: "customer",
        dict: { customer_id: customer, include: "template" },
        raw: (sql) =>
          rawPage(sql, `SELECT * FROM customer_services WHERE customer_id = $1 ORDER BY created_at, id LIMIT 51`, [
            customer
          ])
      },
      {
        name: "range-page-2",
        dict: { ...rangeDict, cursor: first.nextCursor! },
        raw: (sql) =>
          rawPage(
            sql,
            `SELECT * FROM customer_services
             WHERE status IN ($1, $2) AND created_at >= $3 AND created_at <= $4 AND (created_at, id) > ($5, $6)
             ORDER BY created_at, id LIMIT 51`,
            ["ACTIVE", "SUSPENDED", from, to, last.createdAt.toJSON(), last.id]
          )
      }
    ]
    // Sanity: the raw queries return what search returns.
    for (const c of out) {
      const ours = yield* query.search(c.dict)
      const page = yield* sql.unsafe<Record<string, unknown>>(
        c.name === "active-newest"
          ? `SELECT id FROM customer_services WHERE status = 'ACTIVE' ORDER BY created_at DESC, id LIMIT 50`
          : c.name === "customer"
          ? `SELECT id FROM customer_services WHERE customer_id = '${customer}' ORDER BY created_at, id LIMIT 50`
          : `SELECT id FROM customer_services WHERE status IN ('ACTIVE','SUSPENDED') AND created_at >= '${from}'
             AND created_at <= '${to}' AND (created_at, id) > ('${last.createdAt.toJSON()}', '${last.id}')
             ORDER BY created_at, id LIMIT 50`
      )
      const same = JSON.stringify(ours.items.map((i) => i.service.id)) === JSON.stringify(page.map((r) => r["id"]))
      if (!same || ours.items.length === 0) return yield* Effect.dieMessage(`${c.name}: raw SQL and search disagree`)
      if (ours.items.some((i) => i.template?.id !== i.service.templateId)) {
        return yield* Effect.dieMessage(`${c.name}: include=template not loaded`)
      }
    }
    if (process.env["SEARCH_BENCH_EXPLAIN"]) {
      for (const c of out) {
        const q = yield* parse(ServiceFilterSpec, c.dict)
        const [text, params] = sql`SELECT * FROM customer_services WHERE ${compileWhere(sql, ServiceFilterSpec, q)}
          ORDER BY ${compileOrderBy(sql, ServiceFilterSpec, q)} LIMIT ${sql.literal(String(q.limit + 1))}`.compile()
        const plan = yield* sql.unsafe<Record<string, string>>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params)
        log(`-- ${c.name}\n${text}\n${plan.map((r) => Object.values(r)[0]).join("\n")}`)
      }
    }
    return out
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!

const timeOne = <E, R>(effect: Effect.Effect<unknown, E, R>) =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(effect, () => performance.now() - start)
  })

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const query = yield* ServiceQuery
  let t = performance.now()
  yield* load
  log(`(loaded ${ROWS} services in ${((performance.now() - t) / 1000).toFixed(1)} s)`)
  t = performance.now()
  const all = yield* cases(sql, query)
  for (const c of all) {
    for (let i = 0; i < WARMUP; i++) {
      yield* query.search(c.dict)
      yield* c.raw(sql)
    }
  }
  const ours: Array<number> = []
  const raw: Array<number> = []
  const fmt = (n: number) => n.toFixed(3)
  for (const c of all) {
    const o: Array<number> = []
    const r: Array<number> = []
    // Interleaved, so drift (autovacuum, GC) hits both sides alike.
    for (let i = 0; i < ITERATIONS; i++) {
      o.push(yield* timeOne(query.search(c.dict)))
      r.push(yield* timeOne(c.raw(sql)))
    }
    o.sort((a, b) => a - b)
    r.sort((a, b) => a - b)
    ours.push(...o)
    raw.push(...r)
    console.log(`bench search-${c.name}-p50: ${fmt(percentile(o, 50))} ms`)
    console.log(`bench search-${c.name}-p95: ${fmt(percentile(o, 95))} ms`)
    console.log(`bench raw-sql-${c.name}-p95: ${fmt(percentile(r, 95))} ms`)
  }
  ours.sort((a, b) => a - b)
  raw.sort((a, b) => a - b)
  console.log(`bench search-p50: ${fmt(percentile(ours, 50))} ms`)
  console.log(`bench search-p95: ${fmt(percentile(ours, 95))} ms`)
  console.log(`bench raw-sql-p50: ${fmt(percentile(raw, 50))} ms`)
  console.log(`bench raw-sql-p95: ${fmt(percentile(raw, 95))} ms`)
  console.log(`ratio search-vs-raw-sql: ${(percentile(ours, 95) / percentile(raw, 95)).toFixed(2)}`)
  log(`(measured in ${((performance.now() - t) / 1000).toFixed(1)} s)`)
})

/** The whole bench in a fresh database on `DATABASE_URL`'s server, dropped afterwards. */
export const run = () =>
  Effect.gen(function*() {
    const client = pgLayer(yield* freshDatabaseUrl("isp_bench_search"), 4)
    const migrated = Layer.effectDiscard(Migrations.migrate()).pipe(Layer.provideMerge(client))
    const repos = Layer.mergeAll(
      PgTemplateRepository.layer,
      PgServiceRepository.layer,
      PgWorkflowRepository.layer,
      PgAlertRepository.layer,
      PgIpAllocator.layer
    )
    yield* program.pipe(
      Effect.provide(ServiceQuery.Default.pipe(Layer.provideMerge(repos), Layer.provideMerge(migrated)))
    )
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
