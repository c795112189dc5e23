import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import * as fc from "fast-check"
import {
  type AccountingRecord,
  type AccountingSession,
  makeAccountingRecord,
  type UsageDelta
} from "../../src/domain/Usage.js"
import type { ServiceId } from "../../src/domain/Ids.js"
import * as Counters from "../../src/usage/Counters.js"
import * as SessionFold from "../../src/usage/SessionFold.js"

const SID = "0190f3b1-0000-7000-8000-000000000001" as ServiceId
const T0 = Date.UTC(2026, 2, 28, 20, 0, 0)
const at = (ms: number) => DateTime.unsafeMake(ms) as DateTime.Utc

interface Point {
  readonly type: "Start" | "Interim-Update" | "Stop"
  readonly eventMs: number
  readonly sessionTime: number | null
  readonly input: bigint
  readonly output: bigint
}

const record = (p: Point, extra: { nasIpAddress?: string; acctUniqueSessionId?: string } = {}): AccountingRecord => {
  const i = Counters.split(p.input)
  const o = Counters.split(p.output)
  return makeAccountingRecord({
    statusType: p.type,
    acctSessionId: "8100001",
    acctUniqueSessionId: extra.acctUniqueSessionId ?? "sess-1",
    userName: "alice",
    nasIpAddress: extra.nasIpAddress ?? "192.0.2.1",
    framedIpAddress: "100.64.0.7",
    inputOctets: i.octets,
    inputGigawords: i.gigawords,
    outputOctets: o.octets,
    outputGigawords: o.gigawords,
    sessionTime: p.sessionTime,
    eventTime: at(p.eventMs),
    terminateCause: p.type === "Stop" ? "User-Request" : null
  })
}

const fold = (records: ReadonlyArray<AccountingRecord>) => {
  const r = SessionFold.replay(records, { serviceId: SID })
  if (Either.isLeft(r)) throw r.left
  return r.right as { session: AccountingSession; deltas: ReadonlyArray<UsageDelta> }
}

const sum = (ds: ReadonlyArray<UsageDelta>) =>
  ds.reduce(
    (a, d) => ({ in: a.in + d.bytesIn, out: a.out + d.bytesOut, sec: a.sec + d.sessionSeconds }),
    { in: 0n, out: 0n, sec: 0 }
  )

/**
 * A session as the NAS would send it, in order: 1–3 runs of counters (a NAS reboot that keeps the
 * session restarts counters and session time), interims with cumulative counters that often pass
 * 4 GiB, an optional Start and an optional Stop. Also the expected totals.
 */
const sessionArb = fc
  .record({
    withStart: fc.boolean(),
    withStop: fc.boolean(),
    segments: fc.array(
      fc.record({
        gapSeconds: fc.integer({ min: 100, max: 7200 }),
        steps: fc.array(
          fc.record({
            seconds: fc.integer({ min: 1, max: 900 }),
            dIn: fc.bigInt({ min: 0n, max: 3_000_000_000n }),
            dOut: fc.bigInt({ min: 0n, max: 6_000_000_000n })
          }),
          { minLength: 1, maxLength: 8 }
        )
      }),
      { minLength: 1, maxLength: 3 }
    )
  })
  .map(({ segments, withStart, withStop }) => {
    const points: Array<Point> = []
    let clock = T0
    let expIn = 0n
    let expOut = 0n
    let expSec = 0
    segments.forEach((seg, k) => {
      const start = clock + (k === 0 ? 0 : seg.gapSeconds * 1000)
      if (k === 0 && withStart) points.push({ type: "Start", eventMs: start, sessionTime: 0, input: 0n, output: 0n })
      let t = start
      let i = 0n
      let o = 0n
      seg.steps.forEach((s, j) => {
        t += s.seconds * 1000
        i += s.dIn
        o += s.dOut
        const last = k === segments.length - 1 && j === seg.steps.length - 1
        points.push({
          type: last && withStop ? "Stop" : "Interim-Update",
          eventMs: t,
          sessionTime: (t - start) / 1000,
          input: i,
          output: o
        })
      })
      expIn += i
      expOut += o
      expSec += (t - start) / 1000
      clock = t
    })
    return { points, expected: { in: expIn, out: expOut, sec: expSec }, withStop }
  })

/** Delivery: a permutation of the packets with some retransmitted (0–20 s later, same content). */
const deliveryArb = (n: number) =>
  fc.record({
    order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    dups: fc.array(fc.record({ idx: fc.nat(n - 1), shift: fc.integer({ min: 0, max: 20 }), pos: fc.nat() }), {
      maxLength: n
    })
  })

const deliver = (points: ReadonlyArray<Point>, d: { order: number[]; dups: Array<{ idx: number; shift: number; pos: number }> }) => {
  const out: Array<AccountingRecord> = d.order.map((i) => record(points[i]!))
  for (const dup of d.dups) {
    const p = points[dup.idx]!
    // A retransmit whose event time was estimated from the receive time (no Event-Timestamp).
    out.splice(dup.pos % (out.length + 1), 0, record({ ...p, eventMs: p.eventMs + dup.shift * 1000 }))
  }
  return out
}

describe("SessionFold", () => {
  it.prop(
    "any interleaving, duplication or reordering gives the same final usage as the packets in order",
    [sessionArb.chain((s) => deliveryArb(s.points.length).map((d) => ({ s, d })))],
    ([{ d, s }]) => {
      const inOrder = fold(s.points.map((p) => record(p)))
      expect(inOrder.session.inputBytes).toBe(s.expected.in)
      expect(inOrder.session.outputBytes).toBe(s.expected.out)
      expect(inOrder.session.sessionSeconds).toBe(s.expected.sec)

      const shuffled = fold(deliver(s.points, d))
      expect(shuffled.session.inputBytes).toBe(inOrder.session.inputBytes)
      expect(shuffled.session.outputBytes).toBe(inOrder.session.outputBytes)
      expect(shuffled.session.sessionSeconds).toBe(inOrder.session.sessionSeconds)
      expect(shuffled.session.status).toBe(s.withStop ? "CLOSED" : "OPEN")
      expect(shuffled.session.segments.length).toBe(inOrder.session.segments.length)

      // Deltas summed over any delivery order equal the final totals, so period buckets do too.
      const total = sum(shuffled.deltas)
      expect(total.in).toBe(shuffled.session.inputBytes)
      expect(total.out).toBe(shuffled.session.outputBytes)
      expect(total.sec).toBe(shuffled.session.sessionSeconds)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "counters never decrease, whatever arrives next",
    [sessionArb.chain((s) => deliveryArb(s.points.length).map((d) => ({ s, d })))],
    ([{ d, s }]) => {
      let session: AccountingSession | undefined
      for (const r of deliver(s.points, d)) {
        const res = SessionFold.applyRecord(session, r)
        if (Either.isLeft(res)) throw res.left
        const next = res.right.session
        expect(res.right.delta.bytesIn >= 0n && res.right.delta.bytesOut >= 0n).toBe(true)
        if (session) {
          expect(next.inputBytes >= session.inputBytes).toBe(true)
          expect(next.outputBytes >= session.outputBytes).toBe(true)
          expect(next.sessionSeconds >= session.sessionSeconds).toBe(true)
        }
        session = next
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it("counts a session past 4 GiB from Acct-Input-Gigawords, and a retransmitted interim once", () => {
    const start = record({ type: "Start", eventMs: T0, sessionTime: 0, input: 0n, output: 0n })
    const interim = record({ type: "Interim-Update", eventMs: T0 + 300_000, sessionTime: 300, input: 5_000_000_000n, output: 9n })
    expect(interim.inputGigawords).toBe(1)
    const { deltas, session } = fold([start, interim, interim, interim])
    expect(session.inputBytes).toBe(5_000_000_000n)
    expect(deltas.map((d) => d.bytesIn)).toEqual([0n, 5_000_000_000n, 0n, 0n])
  })

  it("ignores a lower counter with an earlier event time (late interim)", () => {
    const a = record({ type: "Interim-Update", eventMs: T0 + 600_000, sessionTime: 600, input: 2000n, output: 20n })
    const late = record({ type: "Interim-Update", eventMs: T0 + 300_000, sessionTime: 300, input: 1000n, output: 10n })
    const { deltas, session } = fold([a, late])
    expect(session.inputBytes).toBe(2000n)
    expect(deltas[1]!.isZero).toBe(true)
    expect(DateTime.formatIso(session.lastUpdateAt)).toBe(DateTime.formatIso(a.eventTime))
  })

  it("creates a closed session from a Stop without a Start", () => {
    const stop = record({ type: "Stop", eventMs: T0 + 3_600_000, sessionTime: 3600, input: 7n, output: 8n })
    const { session } = fold([stop])
    expect(session.status).toBe("CLOSED")
    expect(session.closeSource).toBe("STOP")
    expect(session.closeReason).toBe("User-Request")
    expect(DateTime.formatIso(session.startedAt)).toBe(DateTime.formatIso(at(T0)))
    expect(session.inputBytes).toBe(7n)
    expect(session.serviceId).toBe(SID)
  })

  it("accumulates across a counter reset (later event time, lower session time)", () => {
    const before = record({ type: "Interim-Update", eventMs: T0 + 3_600_000, sessionTime: 3600, input: 10_000n, output: 1n })
    // NAS rebooted at T0+1h+2min and kept the session: counters and session time restart.
    const after = record({ type: "Interim-Update", eventMs: T0 + 3_900_000, sessionTime: 180, input: 500n, output: 1n })
    const { deltas, session } = fold([before, after])
    expect(session.inputBytes).toBe(10_500n)
    expect(session.segments.length).toBe(2)
    expect(deltas[1]!.bytesIn).toBe(500n)
    expect(session.sessionSeconds).toBe(3780)
  })

  it("counts records without Acct-Session-Time by their highest counters, without double counting", () => {
    const pts = [1000n, 3000n, 2000n].map((n, i) =>
      record({ type: "Interim-Update", eventMs: T0 + (i + 1) * 300_000, sessionTime: null, input: n, output: n })
    )
    const stop = record({ type: "Stop", eventMs: T0 + 1_200_000, sessionTime: 1200, input: 4000n, output: 4000n })
    expect(fold(pts).session.inputBytes).toBe(3000n)
    expect(fold([...pts, stop]).session.inputBytes).toBe(4000n)
    expect(fold([stop, ...pts]).session.inputBytes).toBe(4000n)
  })

  it("rejects NAS events and records of another session", () => {
    const on = makeAccountingRecord({ statusType: "Accounting-On", acctSessionId: "", eventTime: at(T0) })
    expect(Either.getLeft(SessionFold.applyRecord(undefined, on)).pipe((o) => o._tag === "Some" && o.value._tag)).toBe(
      "NotASessionRecord"
    )
    const s = fold([record({ type: "Start", eventMs: T0, sessionTime: 0, input: 0n, output: 0n })]).session
    const other = record({ type: "Start", eventMs: T0, sessionTime: 0, input: 0n, output: 0n }, { acctUniqueSessionId: "x" })
    const res = SessionFold.applyRecord(s, other)
    expect(Either.isLeft(res) && res.left._tag).toBe("SessionMismatch")
  })

  it("Accounting-On closes that NAS's open sessions and no others", () => {
    const mk = (id: string, nas: string, ms: number) =>
      fold([record({ type: "Interim-Update", eventMs: ms, sessionTime: 60, input: 1n, output: 1n }, { acctUniqueSessionId: id, nasIpAddress: nas })])
        .session
    const a = mk("a", "192.0.2.1", T0)
    const b = mk("b", "192.0.2.2", T0)
    const c = mk("c", "192.0.2.1", T0 + 7_200_000) // started after the reboot
    const on = makeAccountingRecord({
      statusType: "Accounting-On",
      acctSessionId: "",
      nasIpAddress: "192.0.2.1",
      eventTime: at(T0 + 3_600_000)
    })
    const closed = SessionFold.applyNasEvent([a, b, c], on)
    expect(closed.map((s) => s.sessionId)).toEqual(["a"])
    expect(closed[0]!.status).toBe("CLOSED")
    expect(closed[0]!.closeReason).toBe("NAS-Reboot")
    expect(closed[0]!.inputBytes).toBe(1n)
    // A stale late interim (sent before the reboot) does not reopen it; a Stop still lands.
    const late = record({ type: "Interim-Update", eventMs: T0 + 60_000, sessionTime: 120, input: 5n, output: 5n }, { acctUniqueSessionId: "a" })
    const r = SessionFold.applyRecord(closed[0], late)
    expect(Either.isRight(r) && r.right.session.status).toBe("CLOSED")
    expect(Either.isRight(r) && r.right.session.inputBytes).toBe(5n)
  })

  it("closes stale sessions and reopens them if they turn out alive", () => {
    const s = fold([record({ type: "Interim-Update", eventMs: T0, sessionTime: 60, input: 1n, output: 1n })]).session
    expect(SessionFold.closeStale([s], at(T0 + 3 * 300_000), 300, 3)).toEqual([])
    const [closed] = SessionFold.closeStale([s], at(T0 + 3 * 300_000 + 1), 300, 3)
    expect(closed!.status).toBe("CLOSED")
    expect(closed!.closeSource).toBe("STALE")
    expect(DateTime.formatIso(closed!.stoppedAt!)).toBe(DateTime.formatIso(s.lastUpdateAt))
    const alive = record({ type: "Interim-Update", eventMs: T0 + 1_200_000, sessionTime: 1260, input: 9n, output: 9n })
    const r = SessionFold.applyRecord(closed, alive)
    expect(Either.isRight(r) && r.right.session.status).toBe("OPEN")
    // A Stop is final: later records do not reopen it.
    const stopped = fold([record({ type: "Stop", eventMs: T0, sessionTime: 60, input: 1n, output: 1n })]).session
    const r2 = SessionFold.applyRecord(stopped, alive)
    expect(Either.isRight(r2) && r2.right.session.status).toBe("CLOSED")
    expect(SessionFold.closeStale([stopped], at(T0 + 86_400_000), 300, 3)).toEqual([])
  })
})
