/**
 * Bucket boundaries in the operator's time zone: hours, local days (23 or 25 hours long on DST
 * days) and billing periods with anniversary days. All boundaries are UTC instants; a bucket is
 * the half-open interval [start, end).
 *
 * A delta is attributed whole to the bucket of its record's event time — we do not spread a
 * 5-minute interim across an hour boundary. With interims every few minutes the error is at most
 * one interval's traffic moved into the next bucket, and the totals stay exact.
 *
 * @since 0.1.0
 */
import { DateTime } from "effect"
import { instance } from "./internal/instance.js"
import type { ServiceId } from "../domain/Ids.js"
import { type BillingCycle, UsageBucket, type UsageDelta, type UsageGranularity } from "../domain/Usage.js"

/** A half-open interval [start, end) of UTC instants. */
export interface Interval {
  readonly start: DateTime.Utc
  readonly end: DateTime.Utc
}

const zones = new Map<string, DateTime.TimeZone.Named>()

/**
 * The named zone for an IANA name (cached; Intl formatters are costly to build). Throws
 * `IllegalArgumentException` for an unknown zone: validate names at the boundary with
 * `TimeZoneName` (BillingCycle does).
 */
export const zone = (timeZone: string): DateTime.TimeZone.Named => {
  let z = zones.get(timeZone)
  if (z === undefined) {
    z = DateTime.zoneUnsafeMakeNamed(timeZone)
    zones.set(timeZone, z)
  }
  return z
}

const utc = (millis: number) => DateTime.unsafeMake(millis) as DateTime.Utc

/** Local wall-clock parts of an instant in a zone (month 1–12, weekDay 0 = Sunday). */
export const localParts = (at: DateTime.Utc, timeZone: string): DateTime.DateTime.PartsWithWeekday =>
  DateTime.toParts(DateTime.unsafeMakeZoned(at, { timeZone: zone(timeZone) }))

/**
 * The first instant of a local calendar date (month may overflow: 13 = January next year, day 0 =
 * last day of the previous month). Where midnight does not exist (a DST jump at 00:00) this is the
 * first instant that does.
 */
export const localMidnight = (timeZone: string, year: number, month: number, day: number): DateTime.Utc => {
  const norm = new Date(Date.UTC(year, month - 1, day))
  return DateTime.toUtc(
    DateTime.unsafeMakeZoned(
      { year: norm.getUTCFullYear(), month: norm.getUTCMonth() + 1, day: norm.getUTCDate() },
      { timeZone: zone(timeZone), adjustForTimeZone: true, disambiguation: "compatible" }
    )
  )
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

/**
 * The local hour containing `at`: it starts at the local hh:00 and lasts 60 minutes. In the
 * repeated hour of a DST fall-back each occurrence is its own bucket.
 */
export const hourOf = (at: DateTime.Utc, timeZone: string): Interval => {
  const p = localParts(at, timeZone)
  const start = at.epochMillis - ((p.minutes * 60 + p.seconds) * 1000 + p.millis)
  return { start: utc(start), end: utc(start + 3_600_000) }
}

/** The local calendar day containing `at`: local midnight to the next local midnight (23–25 h). */
export const dayOf = (at: DateTime.Utc, timeZone: string): Interval => {
  const p = localParts(at, timeZone)
  return {
    start: localMidnight(timeZone, p.year, p.month, p.day),
    end: localMidnight(timeZone, p.year, p.month, p.day + 1)
  }
}

const parseDate = (s: string) => {
  const [y, m, d] = s.split("-").map(Number) as [number, number, number]
  return { year: y, month: m, day: d }
}

/** Start of the k-th month-based period after the anchor month (k may be negative). */
const monthPeriodStart = (cycle: BillingCycle, k: number): DateTime.Utc => {
  const a = parseDate(cycle.anchorDate)
  const index = a.year * 12 + (a.month - 1) + k
  const year = Math.floor(index / 12)
  const month = (index - year * 12) + 1
  // Anniversary day, clamped: the 31st bills on the last day of shorter months.
  return localMidnight(cycle.timeZone, year, month, Math.min(a.day, daysInMonth(year, month)))
}

const monthsPer = { MONTHLY: 1, QUARTERLY: 3, YEARLY: 12 } as const

/** The billing period of `cycle` containing `at`. */
export const billingPeriodOf = (at: DateTime.Utc, cycle: BillingCycle): Interval => {
  const t = at.epochMillis
  switch (cycle.period) {
    case "DAILY":
      return dayOf(at, cycle.timeZone)
    case "WEEKLY": {
      const a = parseDate(cycle.anchorDate)
      const anchorWeekday = new Date(Date.UTC(a.year, a.month - 1, a.day)).getUTCDay()
      const p = localParts(at, cycle.timeZone)
      const back = (p.weekDay - anchorWeekday + 7) % 7
      // Step in calendar days, not 24 h, so DST weeks are 167 or 169 hours.
      return {
        start: localMidnight(cycle.timeZone, p.year, p.month, p.day - back),
        end: localMidnight(cycle.timeZone, p.year, p.month, p.day - back + 7)
      }
    }
    default: {
      const step = monthsPer[cycle.period]
      const a = parseDate(cycle.anchorDate)
      const p = localParts(at, cycle.timeZone)
      const diff = p.year * 12 + (p.month - 1) - (a.year * 12 + (a.month - 1))
      let k = Math.floor(diff / step) * step
      // The local month is right, but the anniversary day may not have come yet.
      if (monthPeriodStart(cycle, k).epochMillis > t) k -= step
      return { start: monthPeriodStart(cycle, k), end: monthPeriodStart(cycle, k + step) }
    }
  }
}

/** The bucket of a given granularity containing `at`. */
export const bucketOf = (granularity: UsageGranularity, at: DateTime.Utc, cycle: BillingCycle): Interval =>
  granularity === "HOUR"
    ? hourOf(at, cycle.timeZone)
    : granularity === "DAY"
      ? dayOf(at, cycle.timeZone)
      : billingPeriodOf(at, cycle)

/** The granularities a delta is added to. */
export const granularities: ReadonlyArray<UsageGranularity> = ["HOUR", "DAY", "PERIOD"]

/** A stable key for a bucket, for maps and upserts: `serviceId|granularity|startMillis`. */
export const bucketKey = (serviceId: ServiceId, granularity: UsageGranularity, start: DateTime.Utc): string =>
  `${serviceId}|${granularity}|${start.epochMillis}`

/**
 * Adds a delta to the HOUR, DAY and PERIOD buckets of its event time, returning a new map (keyed by
 * {@link bucketKey}). Deltas of sessions not mapped to a service are skipped. Because the deltas of
 * a session sum to its totals in any order, so do a period's buckets.
 */
export const addDelta = (
  buckets: ReadonlyMap<string, UsageBucket>,
  delta: UsageDelta,
  cycle: BillingCycle
): ReadonlyMap<string, UsageBucket> => {
  const serviceId = delta.serviceId
  if (serviceId === null || delta.isZero) return buckets
  const next = new Map(buckets)
  for (const g of granularities) {
    const b = bucketOf(g, delta.at, cycle)
    const key = bucketKey(serviceId, g, b.start)
    const cur = next.get(key)
    next.set(
      key,
      instance(UsageBucket, {
        serviceId,
        granularity: g,
        periodStart: b.start,
        periodEnd: b.end,
        bytesIn: (cur?.bytesIn ?? 0n) + delta.bytesIn,
        bytesOut: (cur?.bytesOut ?? 0n) + delta.bytesOut,
        sessionSeconds: (cur?.sessionSeconds ?? 0) + delta.sessionSeconds
      })
    )
  }
  return next
}
