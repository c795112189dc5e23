/**
 * The usage store contract on memory, PGlite and (when available) real PostgreSQL: any
 * interleaving, duplication or reordering of a session's packets gives the usage of the in-order
 * delivery, and concurrent ingesters of the same retransmits never double count.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer, Option, Schema, Stream } from "effect"
import * as fc from "fast-check"
import { BillingCycle, type IngestItem, makeAccountingRecord, MemoryUsageStore, type ServiceId, UsageStore } from "@isp-framework/core"
import * as PgUsageStore from "../../src/postgres/usage/PgUsageStore.js"
import type { AccountingRecord } from "@isp-framework/core"
import * as TestDatabase from "../support/TestDatabase.js"

const cycle = Schema.decodeUnknownSync(BillingCycle)({ timeZone: "Europe/Berlin", period: "MONTHLY", anchorDate: "2026-01-15" })
const T0 = Date.parse("2026-03-10T10:00:00Z")
const GW = 4_294_967_296

let counter = 0
const newServiceId = () => `0190${(++counter).toString(16).padStart(4, "0")}-0000-7000-8000-${Math.random().toString(16).slice(2, 14).padEnd(12, "0")}` as ServiceId

/** A session's packets in order: Start, interims with growing 64-bit counters, Stop. */
const sessionPackets = (sessionId: string, steps: ReadonlyArray<readonly [number, number]>, stop: boolean): Array<AccountingRecord> => {
  const out: Array<AccountingRecord> = []
  const mk = (statusType: "Start" | "Interim-Update" | "Stop", t: number, inB: number, outB: number) =>
    makeAccountingRecord({
      statusType,
      acctSessionId: sessionId,
      acctUniqueSessionId: sessionId,
      userName: "u",
      nasIpAddress: "192.0.2.1",
      inputOctets: inB % GW,
      inputGigawords: Math.floor(inB / GW),
      outputOctets: outB % GW,
      outputGigawords: Math.floor(outB / GW),
      sessionTime: t,
      eventTime: DateTime.unsafeMake(T0 + t * 1000) as DateTime.Utc
    })
  out.push(mk("Start", 0, 0, 0))
  let inB = 0
  let outB = 0
  let t = 0
  for (const [dIn, dOut] of steps) {
    inB += dIn
    outB += dOut
    t += 300
    out.push(mk("Interim-Update", t, inB, outB))
  }
  if (stop) out.push(mk("Stop", t + 10, inB, outB))
  return out
}

const items = (records: ReadonlyArray<AccountingRecord>, serviceId: ServiceId): Array<IngestItem> =>
  records.map((record) => ({ record, serviceId, customerId: "cust-1", cycle }))

const totalsOf = (serviceId: ServiceId) =>
  Effect.gen(function*() {
    const store = yield* UsageStore
    const from = DateTime.unsafeMake(T0 - 86_400_000 * 60) as DateTime.Utc
    const to = DateTime.unsafeMake(T0 + 86_400_000 * 60) as DateTime.Utc
    const sum = (bs: ReadonlyArray<{ bytesIn: bigint; bytesOut: bigint; sessionSeconds: number }>) =>
      bs.reduce<readonly [bigint, bigint, number]>((a, b) => [a[0] + b.bytesIn, a[1] + b.bytesOut, a[2] + b.sessionSeconds], [0n, 0n, 0])
    return {
      hour: sum(yield* store.buckets(serviceId, "HOUR", from, to)),
      day: sum(yield* store.buckets(serviceId, "DAY", from, to)),
      period: sum(yield* store.buckets(serviceId, "PERIOD", from, to))
    }
  })

const stepsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * GW }), fc.integer({ min: 0, max: 3 * GW })), { minLength: 1, maxLength: 6 })

/** Shuffled, duplicated packets, cut into random batches. */
const deliveryArb = (n: number) =>
  fc.record({
    order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    dups: fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
    cuts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 })
  })

const contract = (name: string, storeLayer: Layer.Layer<UsageStore>) =>
  it.layer(storeLayer, { timeout: 120_000 })(name, (it) => {
    it.effect("a session past 4 GB with retransmits: totals = last counters, buckets agree", () =>
      Effect.gen(function*() {
        const store = yield* UsageStore
        const sid = newServiceId()
        const pkts = sessionPackets(`s-${sid}`, [[5 * GW, GW + 7], [GW, 3]], true)
        yield* store.ingest(items([...pkts, pkts[1]!, pkts[2]!], sid))
        yield* store.ingest(items([pkts[1]!], sid))
        const session = Option.getOrThrow(yield* store.session(`s-${sid}`))
        expect(session.inputBytes).toBe(6n * BigInt(GW))
        expect(session.outputBytes).toBe(BigInt(GW) + 10n)
        expect(session.status).toBe("CLOSED")
        const t = yield* totalsOf(sid)
        expect(t.period[0]).toBe(6n * BigInt(GW))
        expect(t.day).toEqual(t.period)
        expect(t.hour).toEqual(t.period)
      }))

    it.effect("DAY buckets split at the operator's local midnight and sum their hours", () =>
      Effect.gen(function*() {
        const store = yield* UsageStore
        const sid = newServiceId()
        const at = (iso: string, statusType: "Start" | "Interim-Update", sessionTime: number, inB: number) =>
          makeAccountingRecord({
            statusType, acctSessionId: `d-${sid}`, acctUniqueSessionId: `d-${sid}`, nasIpAddress: "192.0.2.1",
            inputOctets: inB, outputOctets: 2 * inB, sessionTime, eventTime: DateTime.unsafeMake(iso) as DateTime.Utc
          })
        // Europe/Berlin is UTC+1 in March: local midnight of 11 March is 2026-03-10T23:00Z.
        yield* store.ingest(items([
          at("2026-03-10T22:50:00Z", "Start", 0, 0),
          at("2026-03-10T22:55:00Z", "Interim-Update", 300, 40),
          at("2026-03-10T23:10:00Z", "Interim-Update", 1200, 100),
          at("2026-03-10T23:20:00Z", "Interim-Update", 1800, 150)
        ], sid))
        const days = yield* store.buckets(sid, "DAY", DateTime.unsafeMake("2026-03-01T00:00:00Z") as DateTime.Utc,
          DateTime.unsafeMake("2026-04-01T00:00:00Z") as DateTime.Utc)
        expect(days.map((b) => [DateTime.formatIso(b.periodStart), DateTime.formatIso(b.periodEnd), b.bytesIn, b.bytesOut, b.sessionSeconds])).toEqual([
          ["2026-03-09T23:00:00.000Z", "2026-03-10T23:00:00.000Z", 40n, 80n, 300],
          ["2026-03-10T23:00:00.000Z", "2026-03-11T23:00:00.000Z", 110n, 220n, 1500]
        ])
        // A range holding only the second day's start returns only it.
        const second = yield* store.buckets(sid, "DAY", DateTime.unsafeMake("2026-03-10T23:00:00Z") as DateTime.Utc,
          DateTime.unsafeMake("2026-03-11T23:00:00Z") as DateTime.Utc)
        expect(second.map((b) => b.bytesIn)).toEqual([110n])
        const totals = yield* Stream.runCollect(store.totals("DAY", DateTime.unsafeMake("2026-03-10T23:00:00Z") as DateTime.Utc,
          DateTime.unsafeMake("2026-03-11T23:00:00Z") as DateTime.Utc))
        expect([...totals].find((t) => t.serviceId === sid)).toMatchObject({ bytesIn: 110n, bytesOut: 220n, sessionSeconds: 1500 })
      }))

    it.effect("Accounting-On closes the NAS's open sessions; stale sessions close", () =>
      Effect.gen(function*() {
        const store = yield* UsageStore
        const sid = newServiceId()
        const nas = `198.51.${counter % 250}.${Math.floor(Math.random() * 250)}`
        const pkts = sessionPackets(`n-${sid}`, [[100, 200]], false).map((r) => makeAccountingRecord({ ...r, nasIpAddress: nas }))
        yield* store.ingest(items(pkts, sid))
        const on = makeAccountingRecord({
          statusType: "Accounting-On", acctSessionId: "", nasIpAddress: nas,
          eventTime: DateTime.unsafeMake(T0 + 3_600_000) as DateTime.Utc
        })
        const r = yield* store.ingest([{ record: on, serviceId: null, cycle }])
        expect(r.closedByNas).toBe(1)
        const s = Option.getOrThrow(yield* store.session(`n-${sid}`))
        expect([s.status, s.closeSource, s.closeReason]).toEqual(["CLOSED", "NAS_RESTART", "NAS-Reboot"])
        expect(s.inputBytes).toBe(100n)
      }))

    it.effect("property: any order, duplication and batching gives the in-order usage", () =>
      Effect.gen(function*() {
        const ctx = yield* Effect.context<UsageStore>()
        const run = <A>(e: Effect.Effect<A, never, UsageStore>) => Effect.runPromise(Effect.provide(e, ctx))
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(stepsArb, fc.boolean(), fc.nat(), async (steps, stop, seed) => {
              const ref = newServiceId()
              const test = newServiceId()
              const base = sessionPackets("x", steps, stop)
              const delivery = fc.sample(deliveryArb(base.length), { numRuns: 1, seed })[0]!
              await run(Effect.flatMap(UsageStore, (s) =>
                s.ingest(items(sessionPackets(`r-${ref}`, steps, stop), ref))))
              const pkts = sessionPackets(`t-${test}`, steps, stop)
              const seq = [...delivery.order, ...delivery.dups].map((i) => pkts[i]!)
              let at = 0
              for (const cut of [...delivery.cuts, seq.length]) {
                if (at >= seq.length) break
                await run(Effect.flatMap(UsageStore, (s) => s.ingest(items(seq.slice(at, at + cut), test))))
                at += cut
              }
              const a = await run(Effect.flatMap(UsageStore, (s) => s.session(`r-${ref}`)))
              const b = await run(Effect.flatMap(UsageStore, (s) => s.session(`t-${test}`)))
              const sa = Option.getOrThrow(a)
              const sb = Option.getOrThrow(b)
              expect([sb.inputBytes, sb.outputBytes, sb.sessionSeconds, sb.status]).toEqual([
                sa.inputBytes, sa.outputBytes, sa.sessionSeconds, sa.status
              ])
              const ta = await run(totalsOf(ref))
              const tb = await run(totalsOf(test))
              expect(tb.period).toEqual(ta.period)
              expect(tb.day).toEqual(ta.day)
              expect(tb.period[0]).toBe(sa.inputBytes)
            }),
            { numRuns: 25 }
          )
        )
      }))

    it.effect("usage totals stream for billing", () =>
      Effect.gen(function*() {
        const store = yield* UsageStore
        const sid = newServiceId()
        yield* store.ingest(items(sessionPackets(`b-${sid}`, [[10, 20]], true), sid))
        const rows = yield* Stream.runCollect(store.totals("DAY",
          DateTime.unsafeMake(T0 - 86_400_000) as DateTime.Utc, DateTime.unsafeMake(T0 + 86_400_000) as DateTime.Utc))
        const mine = [...rows].find((r) => r.serviceId === sid)
        expect(mine).toMatchObject({ bytesIn: 10n, bytesOut: 20n })
      }))
  })

contract("MemoryUsageStore", MemoryUsageStore.layer)
contract("PgUsageStore on PGlite", PgUsageStore.layer().pipe(Layer.provide(TestDatabase.layerPglite())))

describe.runIf(TestDatabase.realPostgresAvailable())("PgUsageStore on PostgreSQL", () => {
  contract("contract", PgUsageStore.layer().pipe(Layer.provide(TestDatabase.layerPg())))

  it.layer(Layer.mergeAll(PgUsageStore.layer()).pipe(Layer.provideMerge(TestDatabase.layerPg())), { timeout: 120_000 })(
    "concurrency",
    (it) => {
      it.effect("8 concurrent ingesters of the same retransmits (different orders) count each byte once", () =>
        Effect.gen(function*() {
          const store = yield* UsageStore
          const sql = yield* SqlClient.SqlClient
          const services = Array.from({ length: 20 }, () => newServiceId())
          const all = services.flatMap((sid) => items(sessionPackets(`c-${sid}`, [[GW + 1, 5], [7, GW * 2], [3, 3]], true), sid))
          const shuffled = (seed: number) => [...all].sort((a, b) => ((a.record.eventTime.epochMillis * 7 + seed * 13 + a.record.acctUniqueSessionId.length) % 97) - ((b.record.eventTime.epochMillis * 7 + seed * 13) % 97))
          yield* Effect.all(Array.from({ length: 8 }, (_, k) => store.ingest(k % 2 === 0 ? all : shuffled(k).reverse())), { concurrency: "unbounded" })
          for (const sid of services) {
            const s = Option.getOrThrow(yield* store.session(`c-${sid}`))
            expect(s.inputBytes).toBe(BigInt(GW) + 11n)
            const t = yield* totalsOf(sid)
            expect(t.period).toEqual([BigInt(GW) + 11n, 2n * BigInt(GW) + 8n, 910])
          }
          const [row] = yield* sql`SELECT count(*)::int AS n FROM accounting_sessions WHERE session_id LIKE 'c-%'`
          expect(row!.n).toBe(20)
        }))

      it.effect("concurrent batches mixing known and new sessions (two locking rounds) still count each byte once", () =>
        Effect.gen(function*() {
          const store = yield* UsageStore
          const services = Array.from({ length: 40 }, () => newServiceId())
          const packets = services.map((sid) => items(sessionPackets(`m-${sid}`, [[GW + 3, 9], [5, GW]], true), sid))
          // Half the sessions are known before the race.
          yield* store.ingest(packets.filter((_, i) => i % 2 === 0).flatMap((p) => p.slice(0, 1)))
          const rotations = Array.from({ length: 8 }, (_, k) => {
            const all = packets.flat()
            return [...all.slice((k * 17) % all.length), ...all.slice(0, (k * 17) % all.length)]
          })
          yield* Effect.all(rotations.map((batch) => store.ingest(batch)), { concurrency: "unbounded" })
          for (const sid of services) {
            const t = yield* totalsOf(sid)
            expect(t.period).toEqual([BigInt(GW) + 8n, BigInt(GW) + 9n, 610])
          }
        }))

      it.effect("property: two instances (each with its session cache) taking turns on the same sessions count as in order", () =>
        Effect.gen(function*() {
          // Each instance remembers what it last wrote; the other one's writes make that stale, which
          // must cost a rerun, never a byte.
          const a = yield* PgUsageStore.make()
          const b = yield* PgUsageStore.make()
          const reference = yield* MemoryUsageStore.make()
          const ctx = yield* Effect.context<SqlClient.SqlClient>()
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(
                stepsArb,
                fc.boolean(),
                fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 1, maxLength: 16 }),
                async (steps, stop, deliveries) => {
                  const sid = newServiceId()
                  const pkts = sessionPackets(`ab-${sid}`, steps, stop)
                  // Every packet at least once, in order, each to a random instance, plus random re-deliveries.
                  const plan = [...pkts.map((p, i) => [p, deliveries[i % deliveries.length]![1]] as const),
                    ...deliveries.map(([k, toA]) => [pkts[k % pkts.length]!, toA] as const)]
                  await Effect.runPromise(Effect.provide(Effect.gen(function*() {
                    for (const [p, toA] of plan) yield* (toA ? a : b).ingest(items([p], sid))
                    yield* reference.ingest(items(pkts, sid))
                    const want = yield* Effect.provideService(totalsOf(sid), UsageStore, reference)
                    for (const store of [a, b]) {
                      expect(yield* Effect.provideService(totalsOf(sid), UsageStore, store)).toEqual(want)
                      const s = Option.getOrThrow(yield* store.session(`ab-${sid}`))
                      const r = Option.getOrThrow(yield* reference.session(`ab-${sid}`))
                      expect([s.inputBytes, s.outputBytes, s.sessionSeconds, s.status]).toEqual([r.inputBytes, r.outputBytes, r.sessionSeconds, r.status])
                    }
                  }), ctx))
                }
              ),
              { numRuns: 40 }
            )
          )
        }))

      it.effect("a session closed as stale behind a cached copy reopens on its next interim, counted once", () =>
        Effect.gen(function*() {
          const store = yield* PgUsageStore.make()
          const sweeper = yield* PgUsageStore.make()
          const sid = newServiceId()
          const pkts = sessionPackets(`st-${sid}`, [[100, 200], [50, 60]], false)
          yield* store.ingest(items(pkts.slice(0, 2), sid))
          // Another instance's sweep closes it (the cached copy in `store` still says OPEN).
          const closed = yield* sweeper.closeStale(DateTime.unsafeMake(T0 + 86_400_000) as DateTime.Utc, 300, 3)
          expect(closed.map((s) => s.sessionId)).toContain(`st-${sid}`)
          yield* store.ingest(items(pkts.slice(2), sid))
          const s = Option.getOrThrow(yield* store.session(`st-${sid}`))
          expect([s.status, s.inputBytes, s.outputBytes]).toEqual(["OPEN", 150n, 260n])
          expect((yield* totalsOf(sid).pipe(Effect.provideService(UsageStore, store))).period).toEqual([150n, 260n, 600])
        }))

      it.effect("property: text array literals round-trip through PostgreSQL", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const ctx = yield* Effect.context<SqlClient.SqlClient>()
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(fc.array(fc.option(fc.string({ unit: "grapheme" }), { nil: null }), { maxLength: 20 }), async (values) => {
                const clean = values.map((v) => (v === null ? null : v.replace(/\u0000/g, "")))
                const rows = await Effect.runPromise(Effect.provide(
                  sql`SELECT x FROM unnest(${PgUsageStore.textArray(clean)}::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n`,
                  ctx
                ))
                expect(rows.map((r) => r.x)).toEqual(clean)
              }),
              { numRuns: 100 }
            )
          )
        }))
    }
  )
})
