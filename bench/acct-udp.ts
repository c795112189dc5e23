/**
 * The accounting ingest over the network: the real `AccountingServer` (UDP, Request Authenticator
 * checked against the NAS secret, RADIUS decoding, group commit through `ServiceUsage.ingest` into
 * PostgreSQL, Accounting-Response only after the batch is durable) receiving 20,000 sessions × 5
 * records from a NAS stand-in in another process (`internal/acct-udp-sender.ts`: pre-encoded
 * packets, 16 sockets × 256 identifiers in flight, retransmits after 3 s). Same sessions, services
 * and loss check as `bench/acct-ingest.ts`, which measures the same path from decoded records on:
 * the difference is the RADIUS/UDP side. Both processes share this machine's cores with PostgreSQL.
 *
 * Prints `bench acct-udp: N records/s`, `ratio acct-udp-vs-ingest` (this rate over the in-process
 * ingest's rate, measured in the same run), `bench acct-udp-cpu` (server process, NAS process and
 * PostgreSQL per record) and `bench acct-udp-lost` (requests never answered + sessions whose rows do
 * not match what was sent).
 *
 * `npx tsx bench/acct-udp.ts` (DATABASE_URL as for the other benches).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { Effect } from "effect"
import { fork } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type AccountingRecord, ServiceUsage } from "@isp-framework/core"
import { AccountingServer } from "@isp-framework/adapters"
import { backendCpuMs, lostAfter, recordOf, SESSIONS, setup } from "./internal/AccountingBench.js"

const ROUNDS = 5
const SECRET = "bench-secret"
const here = dirname(fileURLToPath(import.meta.url))

interface SenderReport {
  readonly answered: number
  readonly retransmits: number
  readonly seconds: number
  readonly cpuMicros: number
}

/** The in-process reference: the same records through `ServiceUsage.ingest`, 8 writers of 2,000. */
const inProcessRate = (usage: ServiceUsage, first: number) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const batches = Array.from({ length: ROUNDS * SESSIONS / 2000 }, (_, k) => k)
    yield* Effect.forEach(batches, (k) =>
      Effect.suspend(() => {
        const records: Array<AccountingRecord> = []
        const round = Math.floor((k * 2000) / SESSIONS)
        for (let i = (k * 2000) % SESSIONS; i < ((k * 2000) % SESSIONS) + 2000; i++) records.push(recordOf(i, first + round))
        return Effect.asVoid(usage.ingest(records))
      }), { concurrency: 8, discard: true })
    return (ROUNDS * SESSIONS) / ((performance.now() - t0) / 1000)
  })

const program = Effect.gen(function*() {
  const { sql, usage } = yield* setup("isp_bench_udp", 12)
  const server = yield* AccountingServer.make({ port: 0, secretFor: (a) => (a === "127.0.0.1" ? SECRET : undefined) }).pipe(
    Effect.provideService(ServiceUsage, usage)
  )
  const sender = fork(join(here, "internal/acct-udp-sender.ts"), [String(server.port), SECRET, String(SESSIONS), String(ROUNDS)], {
    execArgv: ["--import", "tsx"]
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => sender.kill()))
  const messages: Array<unknown> = []
  let wake: (() => void) | null = null
  sender.on("message", (m) => {
    messages.push(m)
    wake?.()
  })
  const next = Effect.async<unknown>((resume) => {
    const take = () => resume(Effect.succeed(messages.shift()))
    if (messages.length > 0) take()
    else wake = () => {
      wake = null
      take()
    }
  })
  yield* next // "ready": every packet encoded

  const pg0 = yield* backendCpuMs(sql)
  const cpu0 = process.cpuUsage()
  sender.send("go")
  const report = (yield* next) as SenderReport
  const cpu = process.cpuUsage(cpu0)
  const pg1 = yield* backendCpuMs(sql)
  const { bytesMatch, lost } = yield* lostAfter(sql, ROUNDS)
  const stats = yield* server.stats

  // The same sessions go on through ServiceUsage.ingest in-process (rounds 5..9), for the ratio.
  const reference = yield* inProcessRate(usage, ROUNDS)

  const total = SESSIONS * ROUNDS
  const rate = report.answered / report.seconds
  const per = (micros: number) => (micros / total).toFixed(1)
  console.log(`bench acct-udp: ${Math.round(rate)} records/s (${total} Accounting-Requests over UDP, ${stats.batches} batches, ${
    report.retransmits} retransmits, ${report.seconds.toFixed(1)} s)`)
  console.log(`bench acct-udp-in-process: ${Math.round(reference)} records/s (the same path from decoded records on)`)
  console.log(`ratio acct-udp-vs-ingest: ${(rate / reference).toFixed(2)}`)
  console.log(`bench acct-udp-cpu: server ${per(cpu.user + cpu.system)} us/record, NAS ${per(report.cpuMicros)} us/record, postgres ${
    pg0 === null || pg1 === null ? "n/a" : `${per((pg1 - pg0) * 1000)} us/record`}`)
  console.log(`bench acct-udp-lost: ${total - report.answered + lost} records (bytes in buckets ${bytesMatch ? "match" : "DIFFER"}; ${
    stats.invalidAuthenticator} bad authenticators, ${stats.malformed} malformed)`)
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Reactivity.layer))).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
