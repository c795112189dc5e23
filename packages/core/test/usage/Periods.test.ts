import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import * as fc from "fast-check"
import type { ServiceId } from "../../src/domain/Ids.js"
import { BillingCycle, makeAccountingRecord, type TimeZoneName, type UsageBucket } from "../../src/domain/Usage.js"
import * as Periods from "../../src/usage/Periods.js"
import * as SessionFold from "../../src/usage/SessionFold.js"

const u = (iso: string) => DateTime.unsafeMake(iso) as DateTime.Utc
const iso = (d: DateTime.Utc) => DateTime.formatIso(d)
const hours = (i: Periods.Interval) => (i.end.epochMillis - i.start.epochMillis) / 3_600_000
const cycle = (timeZone: string, period: BillingCycle["period"], anchorDate: string) =>
  new BillingCycle({ timeZone: timeZone as TimeZoneName, period, anchorDate })

/** Local wall clock of an instant, by Intl directly (an oracle independent of Periods). */
const wall = (at: DateTime.Utc, timeZone: string) => {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit"
  }).formatToParts(new Date(at.epochMillis))
  const get = (t: string) => parts.find((p) => p.type === t)!.value
  return { date: `${get("year")}-${get("month")}-${get("day")}`, time: `${get("hour")}:${get("minute")}`, day: Number(get("day")) }
}

const zones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Santiago", "UTC"]
const instant = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 11, 31) }).map((ms) => DateTime.unsafeMake(ms) as DateTime.Utc)

describe("Periods", () => {
  it("Europe/Berlin days are 23 h on 2026-03-29 and 25 h on 2026-10-25", () => {
    const spring = Periods.dayOf(u("2026-03-29T12:00:00Z"), "Europe/Berlin")
    expect([iso(spring.start), iso(spring.end), hours(spring)]).toEqual(["2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z", 23])
    const autumn = Periods.dayOf(u("2026-10-25T12:00:00Z"), "Europe/Berlin")
    expect([iso(autumn.start), iso(autumn.end), hours(autumn)]).toEqual(["2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z", 25])
  })

  it("the repeated hour of a fall-back is two buckets; the skipped hour none", () => {
    // 02:30 CEST and 02:30 CET on 2026-10-25.
    const first = Periods.hourOf(u("2026-10-25T00:30:00Z"), "Europe/Berlin")
    const second = Periods.hourOf(u("2026-10-25T01:30:00Z"), "Europe/Berlin")
    expect([iso(first.start), iso(second.start)]).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T01:00:00.000Z"])
    // 01:59 CET then 03:00 CEST on 2026-03-29: consecutive buckets.
    const before = Periods.hourOf(u("2026-03-29T00:59:00Z"), "Europe/Berlin")
    expect(iso(before.end)).toBe(iso(Periods.hourOf(u("2026-03-29T01:00:00Z"), "Europe/Berlin").start))
    expect(wall(before.end, "Europe/Berlin").time).toBe("03:00")
    // Half-hour zones: the hour starts at the local :00.
    expect(iso(Periods.hourOf(u("2026-01-01T10:45:00Z"), "Asia/Kolkata").start)).toBe("2026-01-01T10:30:00.000Z")
  })

  it.prop("days: contain the instant, start at local midnight, tile the timeline, last 23–25 h", [instant, fc.constantFrom(...zones)], ([t, z]) => {
    const d = Periods.dayOf(t, z)
    expect(d.start.epochMillis <= t.epochMillis && t.epochMillis < d.end.epochMillis).toBe(true)
    expect(wall(d.start, z).date).toBe(wall(t, z).date)
    expect(wall(DateTime.unsafeMake(d.start.epochMillis - 1) as DateTime.Utc, z).date).not.toBe(wall(t, z).date)
    expect(iso(Periods.dayOf(d.end, z).start)).toBe(iso(d.end))
    expect([23, 24, 25]).toContain(hours(d))
  })

  it.prop("hours: contain the instant, start at local :00, last 60 minutes", [instant, fc.constantFrom(...zones)], ([t, z]) => {
    const h = Periods.hourOf(t, z)
    expect(h.start.epochMillis <= t.epochMillis && t.epochMillis < h.end.epochMillis).toBe(true)
    expect(wall(h.start, z).time.endsWith(":00")).toBe(true)
    expect(hours(h)).toBe(1)
  })

  it("anniversary day 31 bills on the last day of shorter months", () => {
    const c = cycle("Europe/Berlin", "MONTHLY", "2026-01-31")
    const feb = Periods.billingPeriodOf(u("2026-02-15T12:00:00Z"), c)
    expect([iso(feb.start), iso(feb.end)]).toEqual(["2026-01-30T23:00:00.000Z", "2026-02-27T23:00:00.000Z"])
    const mar = Periods.billingPeriodOf(u("2026-03-01T00:00:00Z"), c)
    // Feb 28 00:00 CET → Mar 31 00:00 CEST (the period spans the DST change).
    expect([iso(mar.start), iso(mar.end)]).toEqual(["2026-02-27T23:00:00.000Z", "2026-03-30T22:00:00.000Z"])
    const apr = Periods.billingPeriodOf(u("2026-04-29T21:59:59Z"), c)
    expect([iso(apr.start), iso(apr.end)]).toEqual(["2026-03-30T22:00:00.000Z", "2026-04-29T22:00:00.000Z"])
    const leap = Periods.billingPeriodOf(u("2028-02-29T12:00:00Z"), c)
    expect(wall(leap.start, "Europe/Berlin").date).toBe("2028-02-29")
  })

  it.prop(
    "billing periods: contain the instant, start at local midnight on the clamped anniversary day, tile",
    [instant, fc.constantFrom(...zones), fc.integer({ min: 1, max: 31 }), fc.constantFrom("MONTHLY", "QUARTERLY", "YEARLY") as fc.Arbitrary<"MONTHLY" | "QUARTERLY" | "YEARLY">],
    ([t, z, day, period]) => {
      const c = cycle(z, period, `2026-01-${String(day).padStart(2, "0")}`)
      const p = Periods.billingPeriodOf(t, c)
      expect(p.start.epochMillis <= t.epochMillis && t.epochMillis < p.end.epochMillis).toBe(true)
      const w = wall(p.start, z)
      const [y, m] = w.date.split("-").map(Number) as [number, number]
      expect(w.day).toBe(Math.min(day, new Date(Date.UTC(y, m, 0)).getUTCDate()))
      expect(m % ({ MONTHLY: 1, QUARTERLY: 3, YEARLY: 12 }[period])).toBe(1 % { MONTHLY: 1, QUARTERLY: 3, YEARLY: 12 }[period])
      expect(iso(Periods.billingPeriodOf(p.end, c).start)).toBe(iso(p.end))
    }
  )

  it("weekly and daily periods follow local calendar days", () => {
    const weekly = cycle("Europe/Berlin", "WEEKLY", "2026-03-02") // a Monday
    const w = Periods.billingPeriodOf(u("2026-03-29T12:00:00Z"), weekly) // Sunday of the DST change
    expect([iso(w.start), iso(w.end), hours(w)]).toEqual(["2026-03-22T23:00:00.000Z", "2026-03-29T22:00:00.000Z", 167])
    const daily = Periods.billingPeriodOf(u("2026-10-25T12:00:00Z"), cycle("Europe/Berlin", "DAILY", "2026-01-01"))
    expect(hours(daily)).toBe(25)
  })

  it("addDelta: a period's buckets sum a service's sessions, in any delivery order", () => {
    const sid = "0190f3b1-0000-7000-8000-000000000001" as ServiceId
    const c = cycle("Europe/Berlin", "MONTHLY", "2026-01-15")
    const rec = (id: string, min: number, bytes: number, type: "Interim-Update" | "Stop" = "Interim-Update") =>
      makeAccountingRecord({
        statusType: type,
        acctSessionId: id,
        acctUniqueSessionId: id,
        inputOctets: bytes,
        outputOctets: bytes * 2,
        sessionTime: min * 60,
        eventTime: DateTime.unsafeMake(Date.UTC(2026, 2, 28, 22, 0) + min * 60_000) as DateTime.Utc
      })
    const records = [rec("a", 30, 100), rec("b", 45, 50), rec("a", 90, 300), rec("b", 150, 80, "Stop"), rec("a", 90, 300)]
    const run = (rs: typeof records) => {
      const sessions = new Map<string, Parameters<typeof SessionFold.applyRecord>[0]>()
      let buckets: ReadonlyMap<string, UsageBucket> = new Map()
      for (const r of rs) {
        const res = Either.getOrThrow(SessionFold.applyRecord(sessions.get(r.acctUniqueSessionId), r, { serviceId: sid }))
        sessions.set(r.acctUniqueSessionId, res.session)
        buckets = Periods.addDelta(buckets, res.delta, c)
      }
      return [...buckets.values()]
    }
    const period = (bs: ReadonlyArray<UsageBucket>) => bs.filter((b) => b.granularity === "PERIOD")
    const inOrder = run(records)
    const reversed = run([...records].reverse())
    expect(period(inOrder).map((b) => [b.bytesIn, b.bytesOut])).toEqual([[380n, 760n]])
    expect(period(reversed).map((b) => [b.bytesIn, b.bytesOut])).toEqual([[380n, 760n]])
    const sumOf = (bs: ReadonlyArray<UsageBucket>, g: string) => bs.filter((b) => b.granularity === g).reduce((a, b) => a + b.bytesIn, 0n)
    expect(sumOf(reversed, "HOUR")).toBe(380n)
    expect(sumOf(reversed, "DAY")).toBe(380n)
    // 2026-03-28 22:00Z + 30 min = 23:30 CET on the 28th; later records fall on the 29th (a 23 h day).
    expect(inOrder.filter((b) => b.granularity === "DAY").map((b) => hours({ start: b.periodStart, end: b.periodEnd }))).toEqual([24, 23])
  })
})
