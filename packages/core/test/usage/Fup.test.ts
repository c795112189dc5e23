import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import * as fc from "fast-check"
import { FreeWindow, FupPolicy, FupTier } from "../../src/domain/ServiceTemplate.js"
import { BillingCycle, type TimeZoneName } from "../../src/domain/Usage.js"
import * as Fup from "../../src/usage/Fup.js"

const GB = 1_000_000_000n
const u = (iso: string) => DateTime.unsafeMake(iso) as DateTime.Utc
const plan = { downloadKbps: 100_000, uploadKbps: 20_000 }
const cycle = new BillingCycle({ timeZone: "Europe/Berlin" as TimeZoneName, period: "MONTHLY", anchorDate: "2026-01-01" })
const periodWindow: Fup.FupWindow = { _tag: "Period", cycle }
const tier = (gb: bigint, down: number, up: number) => new FupTier({ thresholdBytes: gb * GB, downloadKbps: down, uploadKbps: up })
const policy = (hysteresisPercent = 0, freeWindows: Array<FreeWindow> = []) =>
  new FupPolicy({ tiers: [tier(200n, 10_000, 5_000), tier(100n, 20_000, 10_000)], freeWindows, hysteresisPercent })
const sample = (iso: string, bytes: bigint): Fup.UsageSample => ({ at: u(iso), bytesIn: 0n, bytesOut: bytes })

/** A valid ladder: increasing thresholds, speeds non-increasing from the plan's. */
const ladderArb = fc
  .array(fc.record({ gap: fc.bigInt({ min: 1n, max: 500n * GB }), down: fc.integer({ min: 1, max: 1000 }), up: fc.integer({ min: 1, max: 1000 }) }), {
    minLength: 1,
    maxLength: 5
  })
  .map((steps) => {
    let thr = 0n
    let down = plan.downloadKbps
    let up = plan.uploadKbps
    const tiers = steps.map((s) => {
      thr += s.gap
      down = Math.max(1, down - s.down)
      up = Math.max(1, up - s.up)
      return new FupTier({ thresholdBytes: thr, downloadKbps: down, uploadKbps: up })
    })
    return tiers
  })
  // Typed in any order: evaluation sorts by threshold.
  .chain((tiers) => fc.shuffledSubarray(tiers, { minLength: tiers.length, maxLength: tiers.length }))
  .map((tiers) => new FupPolicy({ tiers, hysteresisPercent: 0 }))

const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(
  ([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`
)

describe("Fup", () => {
  it("plan speed below the first threshold, then each tier in turn", () => {
    const at = (used: bigint) =>
      Fup.evaluate({ policy: policy(), plan, window: periodWindow, usage: [sample("2026-03-10T12:00:00Z", used)], now: u("2026-03-20T12:00:00Z") })
    expect(at(99n * GB)).toMatchObject({ tierIndex: null, downloadKbps: 100_000 })
    expect(at(100n * GB)).toMatchObject({ tierIndex: 0, downloadKbps: 20_000, uploadKbps: 10_000 })
    expect(at(250n * GB)).toMatchObject({ tierIndex: 1, downloadKbps: 10_000 })
  })

  it.prop(
    "monotonic: more usage in a period never gives a faster tier (no hysteresis)",
    [ladderArb, fc.bigInt({ min: 0n, max: 3000n * GB }), fc.bigInt({ min: 0n, max: 3000n * GB })],
    ([p, a, b]) => {
      expect(Either.isRight(Fup.validatePolicy(p, plan))).toBe(true)
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      const ev = (used: bigint) =>
        Fup.evaluate({ policy: p, plan, window: periodWindow, usage: [sample("2026-03-10T12:00:00Z", used)], now: u("2026-03-20T12:00:00Z") })
      const x = ev(lo)
      const y = ev(hi)
      expect((y.tierIndex ?? -1) >= (x.tierIndex ?? -1)).toBe(true)
      expect(y.downloadKbps <= x.downloadKbps && y.uploadKbps <= x.uploadKbps).toBe(true)
    }
  )

  it("validatePolicy rejects ladders that speed up or repeat a threshold", () => {
    const faster = new FupPolicy({ tiers: [tier(100n, 10_000, 5_000), tier(200n, 20_000, 5_000)] })
    expect(Either.getLeft(Fup.validatePolicy(faster, plan)).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("InvalidFupPolicy")
    const dup = new FupPolicy({ tiers: [tier(100n, 10_000, 5_000), tier(100n, 5_000, 5_000)] })
    expect(Either.isLeft(Fup.validatePolicy(dup, plan))).toBe(true)
    expect(Either.isLeft(Fup.validatePolicy(new FupPolicy({ tiers: [tier(1n, 200_000, 1)] }), plan))).toBe(true)
  })

  it("free windows (local time, crossing midnight) do not count", () => {
    const night = [new FreeWindow({ start: "23:00", end: "07:00" })]
    const usage = [
      sample("2026-03-10T22:30:00Z", 150n * GB), // 23:30 CET: free
      sample("2026-03-10T06:00:00Z", 150n * GB), // 07:00 CET: counts (end is exclusive)
      sample("2026-03-11T05:59:00Z", 150n * GB) // 06:59 CET: free
    ]
    const s = Fup.evaluate({ policy: policy(0, night), plan, window: periodWindow, usage, now: u("2026-03-20T12:00:00Z") })
    expect(s.countedBytes).toBe(150n * GB)
    expect(s.tierIndex).toBe(0)
    // The same instants in summer time (UTC+2): 22:30Z is 00:30 CEST.
    expect(Fup.isFree(night, "Europe/Berlin", u("2026-07-10T22:30:00Z"))).toBe(true)
    expect(Fup.isFree(night, "Europe/Berlin", u("2026-07-10T05:00:00Z"))).toBe(false)
  })

  it.prop(
    "free windows exclude exactly their bytes",
    [
      fc.array(fc.record({ start: hhmm, end: hhmm }), { maxLength: 3 }),
      fc.array(
        fc.record({
          ms: fc.integer({ min: Date.UTC(2026, 2, 1, 0, 0), max: Date.UTC(2026, 2, 31, 21, 59) }),
          bytes: fc.bigInt({ min: 0n, max: 10n * GB })
        }),
        { maxLength: 40 }
      )
    ],
    ([ws, raw]) => {
      const windows = ws.map((w) => new FreeWindow(w))
      const samples = raw.map((r) => ({ at: DateTime.unsafeMake(r.ms) as DateTime.Utc, bytesIn: r.bytes / 3n, bytesOut: r.bytes - r.bytes / 3n }))
      const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      const isFreeOracle = (ms: number) => {
        const local = fmt.format(new Date(ms))
        return ws.some((w) =>
          w.start === w.end ? true : w.start < w.end ? local >= w.start && local < w.end : local >= w.start || local < w.end
        )
      }
      const free = raw.filter((r) => isFreeOracle(r.ms)).reduce((a, r) => a + r.bytes, 0n)
      const total = raw.reduce((a, r) => a + r.bytes, 0n)
      const window = Fup.windowAt(periodWindow, u("2026-03-15T12:00:00Z"))
      expect(Fup.countedBytes(samples, window, windows, "Europe/Berlin")).toBe(total - free)
    }
  )

  it("hysteresis: a rolling window hovering at a threshold does not flap", () => {
    const rolling: Fup.FupWindow = { _tag: "Rolling", days: 7, timeZone: "Europe/Berlin" }
    const now = u("2026-03-20T12:00:00Z")
    const run = (h: number, series: ReadonlyArray<bigint>) => {
      let prev: Fup.FupState | null = null
      const tiers: Array<number | null> = []
      for (const used of series) {
        prev = Fup.evaluate({ policy: policy(h), plan, window: rolling, usage: [sample("2026-03-19T12:00:00Z", used)], now, previous: prev })
        tiers.push(prev.tierIndex)
      }
      return tiers
    }
    const hover = [99n, 101n, 98n, 100n, 97n, 102n, 96n].map((g) => g * GB)
    expect(run(0, hover)).toEqual([null, 0, null, 0, null, 0, null])
    expect(run(5, hover)).toEqual([null, 0, 0, 0, 0, 0, 0])
    // Falling below threshold − 5 % releases it.
    expect(run(5, [101n * GB, 94n * GB])).toEqual([0, null])
    // From the slowest tier, release goes down one rung at a time as usage drops.
    expect(run(5, [210n * GB, 195n * GB, 189n * GB, 120n * GB, 90n * GB])).toEqual([1, 1, 0, 0, null])
  })

  it.prop(
    "hysteresis never makes a tier faster than without it, nor slower than the previous tier",
    [fc.array(fc.bigInt({ min: 0n, max: 300n * GB }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 50 })],
    ([series, h]) => {
      const rolling: Fup.FupWindow = { _tag: "Rolling", days: 7, timeZone: "Europe/Berlin" }
      const now = u("2026-03-20T12:00:00Z")
      let prev: Fup.FupState | null = null
      for (const used of series) {
        const input = { policy: policy(h), plan, window: rolling, usage: [sample("2026-03-19T12:00:00Z", used)], now }
        const raw = Fup.evaluate(input)
        const next = Fup.evaluate({ ...input, previous: prev })
        expect((next.tierIndex ?? -1) >= (raw.tierIndex ?? -1)).toBe(true)
        expect((next.tierIndex ?? -1) <= Math.max(raw.tierIndex ?? -1, prev?.tierIndex ?? -1)).toBe(true)
        prev = next
      }
    }
  )

  it("resets at the billing period boundary", () => {
    const march = Fup.evaluate({
      policy: policy(50),
      plan,
      window: periodWindow,
      usage: [sample("2026-03-10T12:00:00Z", 250n * GB)],
      now: u("2026-03-31T21:59:00Z") // 23:59 CEST, still March
    })
    expect(march.tierIndex).toBe(1)
    const april = Fup.evaluate({
      policy: policy(50),
      plan,
      window: periodWindow,
      usage: [sample("2026-03-10T12:00:00Z", 250n * GB), sample("2026-03-31T22:00:01Z", 1n * GB)],
      now: u("2026-03-31T22:01:00Z"), // 00:01 CEST, April
      previous: march
    })
    expect(april).toMatchObject({ tierIndex: null, countedBytes: 1n * GB, downloadKbps: plan.downloadKbps })
    expect(Fup.speedChanged(march, april)).toBe(true)
  })
})

describe("Quota", () => {
  it("reports used, remaining, percent and crossed thresholds", () => {
    expect(Fup.quotaState(100n * GB, 85n * GB)).toEqual({
      limit: 100n * GB,
      used: 85n * GB,
      remaining: 15n * GB,
      percent: 85,
      crossedThresholds: [80],
      exceeded: false
    })
    expect(Fup.quotaState(100n * GB, 120n * GB)).toMatchObject({ remaining: 0n, percent: 120, crossedThresholds: [80, 100], exceeded: true })
    expect(Fup.quotaState(null, 120n * GB)).toMatchObject({ remaining: null, percent: null, crossedThresholds: [], exceeded: false })
  })

  it.prop(
    "a threshold is crossed exactly when used × 100 ≥ limit × threshold",
    [fc.bigInt({ min: 1n, max: 1n << 50n }), fc.bigInt({ min: 0n, max: 1n << 51n }), fc.uniqueArray(fc.integer({ min: 1, max: 150 }), { maxLength: 5 })],
    ([limit, used, thresholds]) => {
      const q = Fup.quotaState(limit, used, thresholds)
      expect(q.crossedThresholds).toEqual([...thresholds].sort((a, b) => a - b).filter((t) => used * 100n >= limit * BigInt(t)))
      expect(q.remaining! + (used < limit ? used : limit)).toBe(limit)
    }
  )

  it("quotaAlerts raises each threshold once, WARNING below 100 and EXCEEDED at 100", () => {
    expect(Fup.quotaAlerts(100n, 10n, 50n)).toEqual([])
    expect(Fup.quotaAlerts(100n, 50n, 100n).map((a) => [a.type, a.threshold, a.cause])).toEqual([
      ["QUOTA_WARNING", 80, "QUOTA_WARNING:80"],
      ["QUOTA_EXCEEDED", 100, "QUOTA_EXCEEDED:100"]
    ])
    expect(Fup.quotaAlerts(100n, 85n, 99n)).toEqual([])
    expect(Fup.quotaAlerts(null, 0n, 10n ** 15n)).toEqual([])
  })
})

describe("Prepaid", () => {
  const balance: Fup.PrepaidBalance = { allowanceBytes: 10n * GB, creditMinor: 500n, pricePerUnitMinor: 200n, unitBytes: GB }

  it("uses the allowance first, then charges per started unit until the credit runs out", () => {
    expect(Fup.prepaidState(balance, 5n * GB)).toMatchObject({ chargedMinor: 0n, allowanceRemaining: 5n * GB, exhausted: false, coveredBytes: 12n * GB })
    expect(Fup.prepaidState(balance, 10n * GB + 1n)).toMatchObject({ chargedMinor: 200n, creditRemaining: 300n, exhausted: false })
    expect(Fup.prepaidState(balance, 12n * GB)).toMatchObject({ chargedMinor: 400n, exhausted: true, suspendReason: "NON_PAYMENT" })
    const dataOnly = { ...balance, pricePerUnitMinor: 0n }
    expect(Fup.prepaidState(dataOnly, 10n * GB)).toMatchObject({ chargedMinor: 0n, exhausted: true, suspendReason: "QUOTA_EXHAUSTED" })
    // A top-up is a new balance: the same usage is no longer exhausted.
    expect(Fup.prepaidState({ ...balance, creditMinor: 1000n }, 12n * GB).exhausted).toBe(false)
  })

  it.prop(
    "charges never decrease with usage, never exceed the credit, and exhaustion is monotonic",
    [
      fc.record({
        allowanceBytes: fc.bigInt({ min: 0n, max: 100n * GB }),
        creditMinor: fc.bigInt({ min: 0n, max: 100_000n }),
        pricePerUnitMinor: fc.bigInt({ min: 0n, max: 1000n }),
        unitBytes: fc.bigInt({ min: 1n, max: 10n * GB })
      }),
      fc.bigInt({ min: 0n, max: 500n * GB }),
      fc.bigInt({ min: 0n, max: 500n * GB })
    ],
    ([b, x, y]) => {
      const [lo, hi] = x <= y ? [x, y] : [y, x]
      const a = Fup.prepaidState(b, lo)
      const c = Fup.prepaidState(b, hi)
      expect(c.chargedMinor >= a.chargedMinor).toBe(true)
      expect(c.chargedMinor <= b.creditMinor && c.creditRemaining >= 0n).toBe(true)
      expect(!a.exhausted || c.exhausted).toBe(true)
      expect(c.exhausted).toBe(hi >= c.coveredBytes)
    }
  )
})
