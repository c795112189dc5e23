/**
 * Accounting ingest throughput on PostgreSQL: 20,000 concurrent sessions (every one starts, then
 * sends Interim-Updates), each record built (`makeAccountingRecord`: validation, Gigawords, the
 * FreeRADIUS unique id) and handed to `ServiceUsage.ingest` in batches of group commit — the call the
 * accounting server makes — which maps every record to its service by User-Name (one query per
 * batch; no mapping is reused across batches, as in production, where the resolver's 60 s cache is
 * shorter than the interim interval) and writes it through `PgUsageStore` (the fold, version-checked
 * session updates / inserts, HOUR + PERIOD bucket updates, one transaction per batch, 8 writers as
 * the accounting server runs). Every service starts with a day of last period's buckets. Baseline in
 * the same run: row-at-a-time INSERT of the same records (one statement each, same concurrency). The
 * UDP / RADIUS side is `bench/acct-udp.ts`.
 *
 * Prints `bench acct-ingest-start` (the Start round: new sessions, inserts), `bench acct-ingest` (the
 * interims of the 20,000 open sessions: the median rate of 5 consecutive spans of the phase, so that
 * a burst of load from elsewhere on a shared machine does not decide the figure; `acct-ingest-whole`
 * is the phase as one span), `ratio acct-ingest-vs-row-insert`, `bench acct-cpu` (CPU per interim
 * of this process and of the PostgreSQL backends: comparable across runs on a busy machine, unlike
 * the rate) and `bench acct-lost` (sessions whose stored counters and buckets do not match what was
 * sent, counted from the rows after the run). Knobs: `ACCT_BENCH_WRITERS` (8), `ACCT_BENCH_BATCH`
 * (2000), `ACCT_BENCH_ROUNDS` (interim rounds, 10), `ACCT_BENCH_HISTORY_HOURS` (24),
 * `ACCT_BENCH_BASELINE_RECORDS` (20,000; small for quick profiling runs), `ACCT_BENCH_STORE_ONLY=1`
 * (records already mapped, straight to the store: `acct-ingest-store`).
 *
 * `npx tsx bench/acct-ingest.ts` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
 * a fresh database is created and dropped).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { Effect, Schema } from "effect"
import { type AccountingRecord, BillingCycle, type IngestItem } from "@isp-framework/core"
import { backendCpuMs, lostAfter, recordOf, serviceOf, SESSIONS, setup } from "./internal/AccountingBench.js"

const ROUNDS = Number(process.env["ACCT_BENCH_ROUNDS"] ?? 10)
const BATCH = Number(process.env["ACCT_BENCH_BATCH"] ?? 2_000)
const WRITERS = Number(process.env["ACCT_BENCH_WRITERS"] ?? 8)
const BASELINE_RECORDS = Number(process.env["ACCT_BENCH_BASELINE_RECORDS"] ?? 20_000)
const STORE_ONLY = process.env["ACCT_BENCH_STORE_ONLY"] === "1"
const SEGMENTS = 5

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
// The cycle ServiceUsage derives for the seeded services (UTC, monthly, anchored 2026-01-01): the
// store-only run hands it over directly.
const cycle = Schema.decodeUnknownSync(BillingCycle)({ timeZone: "UTC", period: "MONTHLY", anchorDate: "2026-01-01" })

const program = Effect.gen(function*() {
  const { sql, store, usage } = yield* setup("isp_bench_acct", WRITERS + 2)

  // Baseline: row-at-a-time INSERT of accounting rows.
  yield* sql`CREATE TABLE baseline_acct (session_id text, status text, input_bytes numeric, output_bytes numeric, session_time int, event_time timestamptz)`
  const b0 = performance.now()
  yield* Effect.forEach(Array.from({ length: BASELINE_RECORDS }, (_, k) => k), (k) => {
    const r = recordOf(k % SESSIONS, 1)
    return sql`INSERT INTO baseline_acct VALUES (${r.acctUniqueSessionId}, ${r.statusType}, ${r.inputBytes.toString()}, ${r.outputBytes.toString()}, ${r.sessionTime}, ${new Date(r.eventTime.epochMillis)})`
  }, { concurrency: WRITERS, discard: true })
  const baselineRate = BASELINE_RECORDS / ((performance.now() - b0) / 1000)

  // Warm every pool connection so the backends exist before the first reading.
  yield* Effect.forEach(Array.from({ length: WRITERS }, (_, k) => k), () => sql`SELECT pg_sleep(0.05)`, { concurrency: WRITERS, discard: true })

  // One continuous stream per phase, as a live server sees it: round after round of every session's
  // record, cut into batches that WRITERS writers take in turn (no pause between rounds). Each batch
  // is built when a writer takes it (inside the timed path: decoding is part of ingest), so building
  // one batch overlaps with the other writers' round trips.
  const phase = (rounds: ReadonlyArray<number>) =>
    Effect.gen(function*() {
      const pg0 = yield* backendCpuMs(sql)
      const cpu0 = process.cpuUsage()
      let total = 0
      // When each batch committed and how many records it held: the phase cut into SEGMENTS spans of
      // equal batch counts gives SEGMENTS rates, and their median shrugs off a burst of load from
      // elsewhere on the shared machine (the whole phase's rate is printed beside it).
      const done: Array<{ readonly at: number; readonly n: number }> = []
      const t0 = performance.now()
      const batches = rounds.flatMap((round) =>
        Array.from({ length: Math.ceil(SESSIONS / BATCH) }, (_, k) => ({ round, first: k * BATCH }))
      )
      yield* Effect.forEach(batches, ({ first, round }) =>
        Effect.suspend(() => {
          const last = Math.min(SESSIONS, first + BATCH)
          total += last - first
          if (STORE_ONLY) {
            const batch: Array<IngestItem> = []
            for (let k = first; k < last; k++) batch.push({ record: recordOf(k, round), serviceId: serviceOf(k), customerId: `c${k}`, cycle })
            return Effect.asVoid(store.ingest(batch))
          }
          const records: Array<AccountingRecord> = []
          for (let k = first; k < last; k++) records.push(recordOf(k, round))
          return Effect.asVoid(usage.ingest(records))
        }).pipe(Effect.tap(() => Effect.sync(() => done.push({ at: performance.now(), n: Math.min(SESSIONS, first + BATCH) - first })))),
        { concurrency: WRITERS, discard: true })
      const seconds = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      const pg1 = yield* backendCpuMs(sql)
      const perRecord = (ms: number) => `${((ms * 1000) / total).toFixed(1)} us/record`
      const segments = Math.min(SEGMENTS, done.length)
      const rates: Array<number> = []
      for (let k = 0, from = t0; k < segments; k++) {
        const part = done.slice(Math.floor((k * done.length) / segments), Math.floor(((k + 1) * done.length) / segments))
        const until = part[part.length - 1]!.at
        rates.push(part.reduce((sum, b) => sum + b.n, 0) / ((until - from) / 1000))
        from = until
      }
      return {
        total,
        seconds,
        rate: total / seconds,
        median: median(rates),
        cpu: `node ${perRecord((cpu.user + cpu.system) / 1000)}, postgres ${pg0 === null || pg1 === null ? "n/a" : perRecord(pg1 - pg0)}`
      }
    })

  // Every session starts (round 0: inserts), then sends ROUNDS interims (updates): the steady state
  // of 20,000 open sessions, which is what the headline figure times. The Start round is printed on its own.
  const starts = yield* phase([0])
  const interims = yield* phase(Array.from({ length: ROUNDS }, (_, k) => k + 1))
  const { bytesMatch, lost } = yield* lostAfter(sql, ROUNDS + 1)

  const name = STORE_ONLY ? "acct-ingest-store" : "acct-ingest"
  const path = STORE_ONLY ? "the store alone" : "through ServiceUsage.ingest"
  console.log(`bench ${name}-start: ${Math.round(starts.rate)} records/s (${SESSIONS} Starts: new sessions, ${starts.seconds.toFixed(1)} s; ${starts.cpu})`)
  console.log(`bench ${name}: ${Math.round(interims.median)} records/s (median of ${SEGMENTS} spans; ${interims.total} interims of ${SESSIONS} open sessions, batch ${BATCH}, ${WRITERS} writers, ${path})`)
  console.log(`bench ${name}-whole: ${Math.round(interims.rate)} records/s (the ${interims.seconds.toFixed(1)} s of interims as one span)`)
  console.log(`bench acct-row-insert: ${Math.round(baselineRate)} records/s (baseline, one INSERT per record)`)
  console.log(`ratio ${name}-vs-row-insert: ${(interims.median / baselineRate).toFixed(2)}`)
  console.log(`bench acct-cpu: ${interims.cpu} (interims)`)
  console.log(`bench acct-lost: ${lost} records (bytes in buckets ${bytesMatch ? "match" : "DIFFER"})`)
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Reactivity.layer))).catch((e) => {
  console.error(e)
  process.exit(1)
})
