/**
 * Smart FUP, quotas and prepaid balances as pure functions of (policy, usage, clock).
 *
 * FUP: the usage that counts is the bytes (upload + download) in the current window — the billing
 * period, or a rolling N-day window — minus the bytes whose samples fall in a free time window
 * (e.g. 01:00–07:00 local, possibly crossing midnight). The tier is the slowest one whose threshold
 * that usage has reached; below the first threshold the plan speed applies. Hysteresis: once on a
 * slower tier, the service stays there until usage falls below `threshold × (1 − hysteresis%)`,
 * so a rolling window hovering at a threshold does not flap. A new billing period starts fresh.
 *
 * @since 0.1.0
 */
import { DateTime, Either } from "effect"
import type { AlertType } from "../domain/Enums.js"
import type { FreeWindow, FupPolicy, FupTier } from "../domain/ServiceTemplate.js"
import { type BillingCycle, InvalidFupPolicy } from "../domain/Usage.js"
import { billingPeriodOf, type Interval, localParts } from "./Periods.js"

/** Usage at an instant: a {@link UsageDelta}, or a bucket stamped with its start. */
export interface UsageSample {
  readonly at: DateTime.Utc
  readonly bytesIn: bigint
  readonly bytesOut: bigint
}

/** The plan's own speed (what applies below the first tier). */
export interface PlanSpeed {
  readonly downloadKbps: number
  readonly uploadKbps: number
}

/** Which usage the FUP looks at. */
export type FupWindow =
  | { readonly _tag: "Period"; readonly cycle: BillingCycle }
  | { readonly _tag: "Rolling"; readonly days: number; readonly timeZone: string }

/** The FUP decision: which tier (null = the plan speed), its speeds, and what it was based on. */
export interface FupState {
  readonly tierIndex: number | null
  readonly downloadKbps: number
  readonly uploadKbps: number
  /** Counted (non-free) bytes in the window. */
  readonly countedBytes: bigint
  readonly window: Interval
}

/** Tiers sorted by ascending threshold (the order the policy means, whatever order it was typed in). */
export const sortedTiers = (policy: FupPolicy): ReadonlyArray<FupTier> =>
  [...policy.tiers].sort((a, b) => (a.thresholdBytes < b.thresholdBytes ? -1 : a.thresholdBytes > b.thresholdBytes ? 1 : 0))

/**
 * Checks that the tiers form a slowing ladder: distinct thresholds, and each tier no faster (down
 * and up) than the one before it, the first no faster than the plan. Only then is FUP monotonic:
 * more usage never gives a faster tier.
 */
export const validatePolicy = (policy: FupPolicy, plan: PlanSpeed): Either.Either<FupPolicy, InvalidFupPolicy> => {
  const tiers = sortedTiers(policy)
  let prev: PlanSpeed = plan
  for (let i = 0; i < tiers.length; i++) {
    const t = tiers[i]!
    if (i > 0 && t.thresholdBytes === tiers[i - 1]!.thresholdBytes) {
      return Either.left(new InvalidFupPolicy({ reason: `two tiers share the threshold ${t.thresholdBytes} bytes` }))
    }
    if (t.downloadKbps > prev.downloadKbps || t.uploadKbps > prev.uploadKbps) {
      return Either.left(
        new InvalidFupPolicy({ reason: `the tier at ${t.thresholdBytes} bytes is faster than the speed before it` })
      )
    }
    prev = t
  }
  return Either.right(policy)
}

const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/**
 * Whether local minute-of-day `m` is in the window [start, end). A window whose end is before its
 * start crosses midnight (22:00–06:00); start = end means the whole day.
 */
export const inWindow = (w: FreeWindow, minuteOfDay: number): boolean => {
  const s = minuteOf(w.start)
  const e = minuteOf(w.end)
  return s === e ? true : s < e ? minuteOfDay >= s && minuteOfDay < e : minuteOfDay >= s || minuteOfDay < e
}

/** Whether an instant falls in one of the policy's free windows (local time of `timeZone`). */
export const isFree = (windows: ReadonlyArray<FreeWindow>, timeZone: string, at: DateTime.Utc): boolean => {
  if (windows.length === 0) return false
  const p = localParts(at, timeZone)
  const m = p.hours * 60 + p.minutes
  return windows.some((w) => inWindow(w, m))
}

/** The window the FUP counts at `now`. */
export const windowAt = (window: FupWindow, now: DateTime.Utc): Interval =>
  window._tag === "Period"
    ? billingPeriodOf(now, window.cycle)
    : {
        start: DateTime.unsafeMake(now.epochMillis - window.days * 86_400_000) as DateTime.Utc,
        end: DateTime.unsafeMake(now.epochMillis + 1) as DateTime.Utc
      }

const zoneOf = (window: FupWindow) => (window._tag === "Period" ? window.cycle.timeZone : window.timeZone)

/**
 * Bytes (upload + download) of the samples inside `interval` that are not in a free window.
 * Samples are attributed by their `at`: feed deltas, or buckets no coarser than the free windows.
 */
export const countedBytes = (
  samples: Iterable<UsageSample>,
  interval: Interval,
  freeWindows: ReadonlyArray<FreeWindow>,
  timeZone: string
): bigint => {
  let total = 0n
  for (const s of samples) {
    const t = s.at.epochMillis
    if (t < interval.start.epochMillis || t >= interval.end.epochMillis) continue
    if (isFree(freeWindows, timeZone, s.at)) continue
    total += s.bytesIn + s.bytesOut
  }
  return total
}

/** The tier index reached by `used` bytes without hysteresis (null = below every threshold). */
export const rawTier = (tiers: ReadonlyArray<FupTier>, used: bigint): number | null => {
  let idx: number | null = null
  for (let i = 0; i < tiers.length; i++) if (used >= tiers[i]!.thresholdBytes) idx = i
  return idx
}

/** `threshold × (100 − percent) / 100`, rounded down, in exact integer arithmetic. */
const releaseLevel = (threshold: bigint, hysteresisPercent: number): bigint =>
  (threshold * BigInt(Math.round((100 - hysteresisPercent) * 100))) / 10_000n

/** Input of {@link evaluate}. */
export interface FupInput {
  readonly policy: FupPolicy
  readonly plan: PlanSpeed
  readonly window: FupWindow
  /** Usage samples (deltas or buckets); those outside the window are ignored. */
  readonly usage: Iterable<UsageSample>
  readonly now: DateTime.Utc
  /** The previous decision, for hysteresis; ignored when it belongs to an earlier billing period. */
  readonly previous?: FupState | null | undefined
}

/**
 * The speed tier at `now`. Upward moves (to a slower tier) happen as soon as a threshold is reached;
 * a move back to a faster tier only once usage is below the slower tier's threshold minus the
 * hysteresis margin. A Period window resets at its boundary: the first evaluation in a new period
 * ignores `previous`.
 */
export const evaluate = (input: FupInput): FupState => {
  const tiers = sortedTiers(input.policy)
  const window = windowAt(input.window, input.now)
  const used = countedBytes(input.usage, window, input.policy.freeWindows, zoneOf(input.window))
  let idx = rawTier(tiers, used)
  const prev = input.previous
  const samePeriod =
    prev != null &&
    (input.window._tag === "Rolling" || prev.window.start.epochMillis === window.start.epochMillis)
  if (samePeriod && prev.tierIndex !== null && (idx === null || prev.tierIndex > idx)) {
    // Hold the slowest tier (not above the previous one) whose release level usage still reaches.
    for (let k = Math.min(prev.tierIndex, tiers.length - 1); k > (idx ?? -1); k--) {
      if (used >= releaseLevel(tiers[k]!.thresholdBytes, input.policy.hysteresisPercent)) {
        idx = k
        break
      }
    }
  }
  const speed = idx === null ? input.plan : tiers[idx]!
  return { tierIndex: idx, downloadKbps: speed.downloadKbps, uploadKbps: speed.uploadKbps, countedBytes: used, window }
}

/** Whether two decisions shape differently (a CHANGE_SPEED is due). */
export const speedChanged = (a: FupState | null | undefined, b: FupState): boolean =>
  a == null ? b.tierIndex !== null : a.downloadKbps !== b.downloadKbps || a.uploadKbps !== b.uploadKbps

// ---------------------------------------------------------------------------------------------
// Quotas
// ---------------------------------------------------------------------------------------------

/** Quota position: `remaining`/`percent` are null for an unlimited service. */
export interface QuotaState {
  readonly limit: bigint | null
  readonly used: bigint
  readonly remaining: bigint | null
  /** used / limit × 100, two decimals (may exceed 100). */
  readonly percent: number | null
  /** The thresholds (percent) that usage has reached, ascending. */
  readonly crossedThresholds: ReadonlyArray<number>
  readonly exceeded: boolean
}

/** The default alert thresholds: warn at 80 %, exceeded at 100 %. */
export const DEFAULT_THRESHOLDS: ReadonlyArray<number> = [80, 100]

const reached = (limit: bigint, used: bigint, percent: number) =>
  used * 10_000n >= limit * BigInt(Math.round(percent * 100))

/** Quota position of `usedBytes` against `limitBytes` (null = unlimited), exact in bigint. */
export const quotaState = (
  limitBytes: bigint | null,
  usedBytes: bigint,
  thresholds: ReadonlyArray<number> = DEFAULT_THRESHOLDS
): QuotaState => {
  if (limitBytes === null) {
    return { limit: null, used: usedBytes, remaining: null, percent: null, crossedThresholds: [], exceeded: false }
  }
  const remaining = limitBytes > usedBytes ? limitBytes - usedBytes : 0n
  const percent = limitBytes === 0n ? (usedBytes > 0n ? Infinity : 100) : Number((usedBytes * 10_000n) / limitBytes) / 100
  const crossed = [...thresholds].sort((a, b) => a - b).filter((t) => reached(limitBytes, usedBytes, t))
  return { limit: limitBytes, used: usedBytes, remaining, percent, crossedThresholds: crossed, exceeded: usedBytes >= limitBytes }
}

/** An alert a threshold crossing calls for: QUOTA_EXCEEDED at ≥ 100 %, QUOTA_WARNING below. */
export interface QuotaAlert {
  readonly type: Extract<AlertType, "QUOTA_WARNING" | "QUOTA_EXCEEDED">
  readonly threshold: number
  /** Deduplication key for the alert sink: one open alert per (service, cause). */
  readonly cause: string
}

/** The alerts for thresholds reached by `after` but not by `before` (usage moving within one period). */
export const quotaAlerts = (
  limitBytes: bigint | null,
  before: bigint,
  after: bigint,
  thresholds: ReadonlyArray<number> = DEFAULT_THRESHOLDS
): ReadonlyArray<QuotaAlert> => {
  const was = new Set(quotaState(limitBytes, before, thresholds).crossedThresholds)
  return quotaState(limitBytes, after, thresholds)
    .crossedThresholds.filter((t) => !was.has(t))
    .map((t) => {
      const type = t >= 100 ? ("QUOTA_EXCEEDED" as const) : ("QUOTA_WARNING" as const)
      return { type, threshold: t, cause: `${type}:${t}` }
    })
}

// ---------------------------------------------------------------------------------------------
// Prepaid
// ---------------------------------------------------------------------------------------------

/**
 * A prepaid balance: a data allowance, then pay-as-you-go from a money credit (minor units, e.g.
 * cents) at `pricePerUnitMinor` per started `unitBytes`. Price 0 means no pay-as-you-go.
 */
export interface PrepaidBalance {
  readonly allowanceBytes: bigint
  readonly creditMinor: bigint
  readonly pricePerUnitMinor: bigint
  readonly unitBytes: bigint
}

export interface PrepaidState {
  /** Bytes the balance pays for in total: allowance + whole units the credit buys. */
  readonly coveredBytes: bigint
  readonly remainingBytes: bigint
  readonly allowanceRemaining: bigint
  readonly overageBytes: bigint
  /** Money consumed so far: every started unit beyond the allowance, capped at the credit. */
  readonly chargedMinor: bigint
  readonly creditRemaining: bigint
  readonly exhausted: boolean
  /** Why to suspend when exhausted: NON_PAYMENT if money would buy more, else QUOTA_EXHAUSTED. */
  readonly suspendReason: "QUOTA_EXHAUSTED" | "NON_PAYMENT" | null
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b

/**
 * Consumption of a prepaid balance by the cumulative `usedBytes` of the prepaid term. It is a
 * function of the total, not of increments, so re-evaluating after any delta (or twice) gives the
 * same charge — rounding per started unit never accumulates. A top-up is a new balance: evaluate again.
 */
export const prepaidState = (balance: PrepaidBalance, usedBytes: bigint): PrepaidState => {
  const unit = balance.unitBytes > 0n ? balance.unitBytes : 1n
  const payg = balance.pricePerUnitMinor > 0n
  const units = payg ? balance.creditMinor / balance.pricePerUnitMinor : 0n
  const coveredBytes = balance.allowanceBytes + units * unit
  const overageBytes = usedBytes > balance.allowanceBytes ? usedBytes - balance.allowanceBytes : 0n
  const due = payg ? ceilDiv(overageBytes, unit) * balance.pricePerUnitMinor : 0n
  const chargedMinor = due <= balance.creditMinor ? due : balance.creditMinor
  const exhausted = usedBytes >= coveredBytes
  return {
    coveredBytes,
    remainingBytes: coveredBytes > usedBytes ? coveredBytes - usedBytes : 0n,
    allowanceRemaining: balance.allowanceBytes > usedBytes ? balance.allowanceBytes - usedBytes : 0n,
    overageBytes,
    chargedMinor,
    creditRemaining: balance.creditMinor - chargedMinor,
    exhausted,
    suspendReason: exhausted ? (payg ? "NON_PAYMENT" : "QUOTA_EXHAUSTED") : null
  }
}
