/**
 * ServiceUsage — the usage API billing calls in-process, and the front door of accounting ingest.
 *
 * - `ingest(records)`: maps each record to its service (User-Name, then Calling-Station MAC, then
 *   Framed-IP-Address; cached), then hands the batch to the {@link UsageStore}, which folds it
 *   exactly once (docs/usage-model.md).
 * - `usage(serviceId, { from, to, granularity })`: bytes in/out, the bucket series, session time,
 *   the quota position of the current billing period, the current FUP decision and prepaid state.
 * - `usageForBilling({ from, to })`: a Stream of every service's totals for a billing run.
 *
 * See docs/billing.md.
 *
 * @since 0.1.0
 */
import { Context, DateTime, Effect, Option, Schema, type Stream } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import { ServiceNotFound } from "../domain/Errors.js"
import type { ServiceId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import {
  type AccountingRecord,
  type AccountingSession,
  BillingCycle,
  type UsageBucket,
  type UsageGranularity
} from "../domain/Usage.js"
import { ServiceFilterSpec } from "../filters/specs/ServiceFilterSpec.js"
import { parse } from "../filters/Parse.js"
import { type AccountingTarget, cycleAnchorOf, ServiceRepository } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import {
  FramedIpLookup,
  type IngestItem,
  type IngestResult,
  PrepaidBalances,
  type ServiceTotals,
  UsageStore
} from "../ports/UsageStore.js"
import * as Fup from "../usage/Fup.js"
import * as Periods from "../usage/Periods.js"

/** Operator-wide usage settings. */
export interface UsageSettings {
  /** IANA zone of every period boundary (days, hours, billing periods, free windows). */
  readonly timeZone: string
  /** The NAS's Acct-Interim-Interval, seconds. */
  readonly interimIntervalSeconds: number
  /** A session with no record for this many intervals is closed as stale. */
  readonly staleAfterIntervals: number
  /** Quota alert thresholds in percent (QUOTA_WARNING below 100, QUOTA_EXCEEDED at ≥ 100). */
  readonly quotaThresholds: ReadonlyArray<number>
  /** How long a record → service mapping is cached, seconds (a rename takes at most this long). */
  readonly resolverCacheSeconds: number
  /**
   * How long a plan (template) read while mapping records is reused, seconds: a change to a plan's
   * billing period reaches new records within this long. Default: `resolverCacheSeconds`.
   */
  readonly templateCacheSeconds?: number | undefined
}

export const defaultUsageSettings: UsageSettings = {
  timeZone: "UTC",
  interimIntervalSeconds: 300,
  staleAfterIntervals: 3,
  quotaThresholds: Fup.DEFAULT_THRESHOLDS,
  resolverCacheSeconds: 60
}

/** Optional settings tag; {@link defaultUsageSettings} apply when absent. */
export class UsageConfig extends Context.Tag("@isp-framework/core/UsageConfig")<UsageConfig, UsageSettings>() {}

/** A record's service, as the resolver found it. */
export interface ResolvedService {
  readonly serviceId: ServiceId
  readonly customerId: string
  readonly cycle: BillingCycle
}

/** Query of {@link ServiceUsage.usage}. */
export interface UsageQuery {
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
  readonly granularity: UsageGranularity
  /** "Now" for the quota / FUP / prepaid position; default the clock. */
  readonly now?: DateTime.Utc | undefined
}

/** What {@link ServiceUsage.usage} returns. Bytes: in = upload, out = download. */
export interface UsageReport {
  readonly serviceId: ServiceId
  readonly from: DateTime.Utc
  readonly to: DateTime.Utc
  readonly granularity: UsageGranularity
  readonly bytesIn: bigint
  readonly bytesOut: bigint
  readonly totalBytes: bigint
  readonly sessionSeconds: number
  readonly series: ReadonlyArray<UsageBucket>
  /** The billing period containing `now`, and its usage. */
  readonly currentPeriod: Periods.Interval
  readonly periodBytes: bigint
  /** Against the template's monthly data limit (null limit = unlimited). */
  readonly quota: Fup.QuotaState
  /** The FUP decision now (null when the template has no FUP policy). */
  readonly fup: Fup.FupState | null
  /** Prepaid balance consumption (null when the service has no prepaid balance). */
  readonly prepaid: Fup.PrepaidState | null
  readonly openSessions: number
}

/** The plan's own speed of a template. */
export const planSpeedOf = (template: ServiceTemplate): Fup.PlanSpeed | null =>
  template.internet === null
    ? null
    : { downloadKbps: template.internet.downloadSpeedKbps, uploadKbps: template.internet.uploadSpeedKbps }

const sumBuckets = (buckets: ReadonlyArray<UsageBucket>) => {
  let bytesIn = 0n
  let bytesOut = 0n
  let sessionSeconds = 0
  for (const b of buckets) {
    bytesIn += b.bytesIn
    bytesOut += b.bytesOut
    sessionSeconds += b.sessionSeconds
  }
  return { bytesIn, bytesOut, sessionSeconds }
}

/** Cycle of unmapped sessions (their deltas go to no bucket; any valid cycle will do). */
const UNMAPPED_CYCLE = Schema.decodeUnknownSync(BillingCycle)({
  timeZone: "UTC",
  period: "MONTHLY",
  anchorDate: "2000-01-01"
})

export class ServiceUsage extends Effect.Service<ServiceUsage>()("@isp-framework/core/ServiceUsage", {
  effect: Effect.gen(function*() {
    const store = yield* UsageStore
    const services = yield* ServiceRepository
    const templates = yield* TemplateRepository
    const framedIps = yield* Effect.serviceOption(FramedIpLookup)
    const prepaidBalances = yield* Effect.serviceOption(PrepaidBalances)
    const settings = Option.getOrElse(yield* Effect.serviceOption(UsageConfig), () => defaultUsageSettings)

    const cycleCache = new Map<string, BillingCycle>()
    // Local date of an anchor, by its 15-minute UTC slot: every zone offset in use since 1972 is a
    // multiple of 15 minutes, so all instants of such a slot share their local date. The zone lookup
    // it saves was the largest cost of mapping a record to its service.
    const anchorDates = new Map<number, string>()
    const localDateOf = (anchorAt: DateTime.Utc): string => {
      const slot = Math.floor(anchorAt.epochMillis / 900_000)
      let date = anchorDates.get(slot)
      if (date === undefined) {
        const p = Periods.localParts(anchorAt, settings.timeZone)
        date = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`
        if (anchorDates.size >= 100_000) anchorDates.clear()
        anchorDates.set(slot, date)
      }
      return date
    }
    /** The billing cycle anchored at `anchorAt`: operator zone, template period, anniversary = that local date. */
    const cycleAt = (anchorAt: DateTime.Utc, template: ServiceTemplate): BillingCycle => {
      const anchorDate = localDateOf(anchorAt)
      const key = `${template.billingPeriod}|${anchorDate}`
      let c = cycleCache.get(key)
      if (c === undefined) {
        c = Schema.decodeUnknownSync(BillingCycle)({ timeZone: settings.timeZone, period: template.billingPeriod, anchorDate })
        cycleCache.set(key, c)
      }
      return c
    }
    /** The billing cycle of a service (see {@link cycleAnchorOf}). */
    const cycleOf = (service: CustomerService, template: ServiceTemplate): BillingCycle => cycleAt(cycleAnchorOf(service), template)

    const loadService = (id: ServiceId) =>
      Effect.flatMap(services.findById(id), Option.match({
        onNone: () => Effect.fail(new ServiceNotFound({ serviceId: id })),
        onSome: Effect.succeed
      }))

    const templateOf = (service: CustomerService) =>
      Effect.map(templates.findById(service.templateId), Option.getOrNull)

    // Record → service caches, one per kind of key: value → (result, expiry millis). Misses are cached
    // too (briefly).
    type Cached = { readonly value: ResolvedService | null; readonly until: number }
    const caches = { u: new Map<string, Cached>(), mac: new Map<string, Cached>(), ip: new Map<string, Cached>() }
    const ttl = settings.resolverCacheSeconds * 1000
    const templateTtl = (settings.templateCacheSeconds ?? settings.resolverCacheSeconds) * 1000

    const resolvedOf = (service: CustomerService) =>
      Effect.map(templateOf(service), (template): ResolvedService | null =>
        template === null ? null : { serviceId: service.id, customerId: service.customerId, cycle: cycleOf(service, template) })

    const lookupUncached = (kind: "u" | "mac" | "ip", value: string): Effect.Effect<ResolvedService | null> =>
      Effect.gen(function*() {
        if (kind === "u") {
          const s = yield* services.findByUsername(value)
          return Option.isSome(s) ? yield* resolvedOf(s.value) : null
        }
        if (kind === "mac") {
          const mac = normaliseMac(value)
          if (mac === null) return null
          const q = yield* Effect.orDie(parse(ServiceFilterSpec, { mac_address: mac, status__in: "ACTIVE,SUSPENDED", limit: 1 }))
          const page = yield* services.search(q)
          const s = page.items[0]
          return s === undefined ? null : yield* resolvedOf(s)
        }
        if (Option.isNone(framedIps)) return null
        const id = yield* framedIps.value.byAddress(value)
        if (Option.isNone(id)) return null
        const s = yield* services.findById(id.value)
        return Option.isSome(s) ? yield* resolvedOf(s.value) : null
      })

    const fresh = (kind: keyof typeof caches, key: string, now: number): ResolvedService | null | undefined => {
      const hit = caches[kind].get(key)
      return hit !== undefined && hit.until > now ? hit.value : undefined
    }
    const remember = (kind: keyof typeof caches, key: string, value: ResolvedService | null, now: number) => {
      const cache = caches[kind]
      if (cache.size > 500_000) cache.clear()
      cache.set(key, { value, until: now + (value === null ? Math.min(ttl, 5_000) : ttl) })
    }

    const lookup = (kind: keyof typeof caches, value: string, now: number) => {
      const hit = fresh(kind, value, now)
      if (hit !== undefined) return Effect.succeed(hit)
      return Effect.tap(lookupUncached(kind, value), (v) => Effect.sync(() => remember(kind, value, v, now)))
    }

    /** Maps a record to its service: User-Name, then Calling-Station-Id MAC, then Framed-IP-Address. */
    const resolve = Effect.fn("ServiceUsage.resolve")(function*(record: AccountingRecord) {
      const now = Date.now()
      if (record.userName !== null && record.userName !== "") {
        const r = yield* lookup("u", record.userName, now)
        if (r !== null) return r
      }
      if (record.callingStationId !== null && record.callingStationId !== "") {
        const r = yield* lookup("mac", record.callingStationId, now)
        if (r !== null) return r
      }
      if (record.framedIpAddress !== null && record.framedIpAddress !== "") {
        const r = yield* lookup("ip", record.framedIpAddress, now)
        if (r !== null) return r
      }
      return null
    })

    // Templates of resolved services, cached like the mappings: a batch's services share a handful,
    // and within one batch each template is read at most once, whatever the TTL.
    const templateCache = new Map<string, { readonly value: ServiceTemplate | null; readonly until: number }>()
    /** The templates of `targets`, by id: cached ones, the rest read (one read per template). */
    const templatesOf = (targets: ReadonlyArray<AccountingTarget>, now: number) =>
      Effect.gen(function*() {
        const byId = new Map<string, ServiceTemplate | null>()
        for (const t of targets) {
          if (byId.has(t.templateId)) continue
          const hit = templateCache.get(t.templateId)
          if (hit !== undefined && hit.until > now) byId.set(t.templateId, hit.value)
          else {
            const template = Option.getOrNull(yield* templates.findById(t.templateId))
            templateCache.set(t.templateId, { value: template, until: now + templateTtl })
            byId.set(t.templateId, template)
          }
        }
        return byId
      })

    /**
     * `resolve` for a whole batch, with the same answers: mappings come from the cache, and the
     * batch's user names the cache does not know are looked up in one query (every record of a busy
     * NAS carries a user name; a per-record lookup with its span cost more than the fold and the write
     * together). MAC and Framed-IP fallbacks go one distinct value at a time, cached as well.
     */
    const resolveBatch = (records: ReadonlyArray<AccountingRecord>) =>
      Effect.gen(function*() {
        const now = Date.now()
        // This batch's user names → their mapping (from the cache, else from the one query).
        const byName = new Map<string, ResolvedService | null>()
        const unknownNames: Array<string> = []
        for (const r of records) {
          const name = r.userName
          if (name === null || name === "" || byName.has(name)) continue
          const hit = fresh("u", name, now)
          byName.set(name, hit ?? null)
          if (hit === undefined) unknownNames.push(name)
        }
        if (unknownNames.length > 0) {
          const targets = yield* services.findAccountingTargets(unknownNames)
          const templatesById = yield* templatesOf(targets, now)
          for (const t of targets) {
            const template = templatesById.get(t.templateId) ?? null
            if (template === null || !byName.has(t.pppoeUsername)) continue
            byName.set(t.pppoeUsername, { serviceId: t.serviceId, customerId: t.customerId, cycle: cycleAt(t.anchorAt, template) })
          }
          for (const name of unknownNames) remember("u", name, byName.get(name) ?? null, now)
        }
        const out: Array<ResolvedService | null> = []
        for (const r of records) {
          if (r.statusType === "Accounting-On" || r.statusType === "Accounting-Off") {
            out.push(null)
            continue
          }
          let v = r.userName !== null && r.userName !== "" ? byName.get(r.userName) ?? null : null
          if (v === null && r.callingStationId !== null && r.callingStationId !== "") v = yield* lookup("mac", r.callingStationId, now)
          if (v === null && r.framedIpAddress !== null && r.framedIpAddress !== "") v = yield* lookup("ip", r.framedIpAddress, now)
          out.push(v)
        }
        return out
      })

    /** Resolves and folds a batch of records durably; returns what changed. */
    const ingest = Effect.fn("ServiceUsage.ingest")(function*(records: ReadonlyArray<AccountingRecord>) {
      const resolved = yield* resolveBatch(records)
      const items: Array<IngestItem> = []
      for (let i = 0; i < records.length; i++) {
        const r = resolved[i]
        items.push({ record: records[i]!, serviceId: r?.serviceId ?? null, customerId: r?.customerId ?? null, cycle: r?.cycle ?? UNMAPPED_CYCLE })
      }
      return yield* store.ingest(items)
    }) as (records: ReadonlyArray<AccountingRecord>) => Effect.Effect<IngestResult>

    /** Everything about one service's billing position at `now`. */
    const position = (service: CustomerService, template: ServiceTemplate | null, now: DateTime.Utc) =>
      Effect.gen(function*() {
        const cycle = template === null ? UNMAPPED_CYCLE : cycleOf(service, template)
        const period = Periods.billingPeriodOf(now, cycle)
        const periodBuckets = yield* store.buckets(service.id, "PERIOD", period.start, period.end)
        const pt = sumBuckets(periodBuckets)
        const periodBytes = pt.bytesIn + pt.bytesOut
        const limit = template?.internet?.monthlyDataLimitBytes ?? null
        const quota = Fup.quotaState(limit, periodBytes, settings.quotaThresholds)
        const policy = template?.internet?.fup ?? null
        const plan = template === null ? null : planSpeedOf(template)
        let fupSamples: ReadonlyArray<UsageBucket> = []
        if (policy !== null && plan !== null && policy.tiers.length > 0) {
          fupSamples = yield* store.buckets(service.id, "HOUR", period.start, period.end)
        }
        let prepaid: Fup.PrepaidState | null = null
        let prepaidUsed: bigint | null = null
        if (Option.isSome(prepaidBalances)) {
          const acct = yield* prepaidBalances.value.get(service.id)
          if (Option.isSome(acct)) {
            const since = acct.value.since
            const hours = yield* store.buckets(service.id, "HOUR", Periods.hourOf(since, settings.timeZone).start, DateTime.add(now, { hours: 1 }))
            const t = sumBuckets(hours)
            prepaidUsed = t.bytesIn + t.bytesOut
            prepaid = Fup.prepaidState(acct.value, prepaidUsed)
          }
        }
        return { cycle, period, periodBytes, quota, policy, plan, fupSamples, prepaid, prepaidUsed }
      })

    /** The FUP decision at `now` for a service (null without a FUP policy). */
    const fupDecision = (
      pos: Effect.Effect.Success<ReturnType<typeof position>>,
      now: DateTime.Utc,
      previous: Fup.FupState | null
    ): Fup.FupState | null =>
      pos.policy === null || pos.plan === null || pos.policy.tiers.length === 0
        ? null
        : Fup.evaluate({
          policy: pos.policy,
          plan: pos.plan,
          window: { _tag: "Period", cycle: pos.cycle },
          usage: pos.fupSamples.map((b) => ({ at: b.periodStart, bytesIn: b.bytesIn, bytesOut: b.bytesOut })),
          now,
          previous
        })

    /** Usage of one service over [from, to) plus its quota, FUP and prepaid position now. */
    const usage = Effect.fn("ServiceUsage.usage")(function*(serviceId: ServiceId, query: UsageQuery) {
      const service = yield* loadService(serviceId)
      const template = yield* templateOf(service)
      const now = query.now ?? (yield* DateTime.now)
      const series = yield* store.buckets(serviceId, query.granularity, query.from, query.to)
      const totals = sumBuckets(series)
      const pos = yield* position(service, template, now)
      const open = yield* store.sessions({ serviceId, status: "OPEN" })
      const report: UsageReport = {
        serviceId,
        from: query.from,
        to: query.to,
        granularity: query.granularity,
        bytesIn: totals.bytesIn,
        bytesOut: totals.bytesOut,
        totalBytes: totals.bytesIn + totals.bytesOut,
        sessionSeconds: totals.sessionSeconds,
        series,
        currentPeriod: pos.period,
        periodBytes: pos.periodBytes,
        quota: pos.quota,
        fup: fupDecision(pos, now, null),
        prepaid: pos.prepaid,
        openSessions: open.length
      }
      return report
    })

    /**
     * Every service's totals over [from, to) for a billing run, from the daily buckets (so pass
     * local midnights in the operator's zone), ordered by service id, streamed in pages.
     */
    const usageForBilling = (period: { readonly from: DateTime.Utc; readonly to: DateTime.Utc }): Stream.Stream<ServiceTotals> =>
      store.totals("DAY", period.from, period.to)

    /** Sessions of a service, most recently updated first. */
    const sessions = Effect.fn("ServiceUsage.sessions")(function*(
      serviceId: ServiceId,
      options: { readonly status?: "OPEN" | "CLOSED" | undefined; readonly limit?: number | undefined } = {}
    ) {
      return yield* store.sessions({ serviceId, status: options.status, limit: options.limit }) as Effect.Effect<
        ReadonlyArray<AccountingSession>
      >
    })

    /** Closes sessions that sent nothing for `staleAfterIntervals × interimIntervalSeconds`. */
    const closeStale = Effect.fn("ServiceUsage.closeStale")(function*(now?: DateTime.Utc) {
      const at = now ?? (yield* DateTime.now)
      return yield* store.closeStale(at, settings.interimIntervalSeconds, settings.staleAfterIntervals)
    })

    /** Forgets cached record → service mappings and templates (after renames, re-assignments, plan edits). */
    const invalidate = Effect.sync(() => {
      for (const cache of Object.values(caches)) cache.clear()
      templateCache.clear()
    })

    return {
      settings,
      resolve,
      ingest,
      usage,
      usageForBilling,
      sessions,
      closeStale,
      invalidate,
      /** @internal used by the FUP enforcer */
      position,
      /** @internal used by the FUP enforcer */
      fupDecision,
      loadService,
      templateOf,
      cycleOf
    } as const
  })
}) {}

/** "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "aabbccddeeff" → "aa:bb:cc:dd:ee:ff"; null if not a MAC. */
export const normaliseMac = (value: string): string | null => {
  const hex = value.toLowerCase().replace(/[^0-9a-f]/g, "")
  return hex.length === 12 ? hex.match(/../g)!.join(":") : null
}
