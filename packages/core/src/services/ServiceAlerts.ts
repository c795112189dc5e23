/**
 * ServiceAlerts — raise (one open alert per subject + cause), acknowledge, resolve, search with
 * filter dicts, and a live `Stream` of new alerts (for SSE). `check(now)` is the periodic sweep
 * that raises SLA_BREACH (an ACTIVE service with no live session for too long; an activation slower
 * than the template's `activationSlaMinutes`) and POOL_NEARLY_EXHAUSTED. See docs/alerts.md.
 *
 * @since 0.1.0
 */
import { Context, DateTime, Effect, Option, PubSub, Stream } from "effect"
import { RaiseAlert, type ServiceAlert } from "../domain/Alert.js"
import type { AlertId } from "../domain/Ids.js"
import type { CustomerService } from "../domain/CustomerService.js"
import { AlertFilterSpec } from "../filters/specs/AlertFilterSpec.js"
import { ServiceFilterSpec } from "../filters/specs/ServiceFilterSpec.js"
import { parse } from "../filters/Parse.js"
import { AlertRepository } from "../ports/AlertRepository.js"
import { IpAllocator } from "../ports/IpAllocator.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { UsageStore } from "../ports/UsageStore.js"

/** Thresholds of the sweep. */
export interface AlertSettings {
  /** An ACTIVE service with no OPEN session (and no record) for this long is in SLA breach. */
  readonly noSessionMinutes: number
  /** A pool whose used percentage reaches this raises POOL_NEARLY_EXHAUSTED. */
  readonly poolThresholdPercent: number
}

export const defaultAlertSettings: AlertSettings = { noSessionMinutes: 30, poolThresholdPercent: 90 }

export class AlertConfig extends Context.Tag("@isp-framework/core/AlertConfig")<AlertConfig, AlertSettings>() {}

/** What a sweep raised (new alerts only). */
export interface CheckReport {
  readonly raised: ReadonlyArray<ServiceAlert>
  readonly servicesChecked: number
  readonly poolsChecked: number
}

export class ServiceAlerts extends Effect.Service<ServiceAlerts>()("@isp-framework/core/ServiceAlerts", {
  scoped: Effect.gen(function*() {
    const repo = yield* AlertRepository
    const settings = Option.getOrElse(yield* Effect.serviceOption(AlertConfig), () => defaultAlertSettings)
    const services = yield* Effect.serviceOption(ServiceRepository)
    const templates = yield* Effect.serviceOption(TemplateRepository)
    const usage = yield* Effect.serviceOption(UsageStore)
    const ips = yield* Effect.serviceOption(IpAllocator)
    const hub = yield* PubSub.unbounded<ServiceAlert>()
    yield* Effect.addFinalizer(() => PubSub.shutdown(hub))

    /**
     * Raises an alert, or updates the open one with the same (service or pool, cause). New alerts
     * are published on {@link stream}.
     */
    const raise = Effect.fn("ServiceAlerts.raise")(function*(
      input: RaiseAlert | ConstructorParameters<typeof RaiseAlert>[0],
      at?: DateTime.Utc
    ) {
      const now = at ?? (yield* DateTime.now)
      const alert = input instanceof RaiseAlert ? input : new RaiseAlert(input)
      const result = yield* repo.raise(alert, now)
      if (result.created) yield* PubSub.publish(hub, result.alert)
      return result
    })

    const acknowledge = Effect.fn("ServiceAlerts.acknowledge")(function*(id: AlertId, by: string) {
      return yield* repo.acknowledge(id, by, yield* DateTime.now)
    })

    const resolve = Effect.fn("ServiceAlerts.resolve")(function*(id: AlertId, by: string, notes: string | null = null) {
      return yield* repo.resolve(id, by, notes, yield* DateTime.now)
    })

    /** Search with a filter dict (`{ type: "QUOTA_WARNING", status__in: "OPEN,ACKNOWLEDGED" }`). */
    const search = Effect.fn("ServiceAlerts.search")(function*(dict: unknown) {
      const query = yield* parse(AlertFilterSpec, dict)
      return yield* repo.search(query)
    })

    const findById = Effect.fn("ServiceAlerts.findById")(function*(id: AlertId) {
      return yield* repo.findById(id)
    })

    /** New alerts as they are raised (each subscriber sees those raised after it subscribed). */
    const stream: Stream.Stream<ServiceAlert> = Stream.fromPubSub(hub)

    /** Every service with a given status, page by page. */
    const allWithStatus = (status: string) =>
      Effect.gen(function*() {
        if (Option.isNone(services)) return [] as ReadonlyArray<CustomerService>
        const out: Array<CustomerService> = []
        let cursor: string | null = null
        do {
          const dict: Record<string, unknown> = { status, limit: 500, ...(cursor === null ? {} : { cursor }) }
          const q = yield* Effect.orDie(parse(ServiceFilterSpec, dict))
          const page = yield* services.value.search(q)
          out.push(...page.items)
          cursor = page.nextCursor
        } while (cursor !== null)
        return out
      })

    /**
     * The sweep: SLA_BREACH for ACTIVE services without a live session for `noSessionMinutes`
     * (cause "SLA_BREACH:no_session") and for activations slower than the template's SLA (cause
     * "SLA_BREACH:activation"); POOL_NEARLY_EXHAUSTED for pools at or above the threshold.
     */
    const check = Effect.fn("ServiceAlerts.check")(function*(at?: DateTime.Utc) {
      const now = at ?? (yield* DateTime.now)
      const raised: Array<ServiceAlert> = []
      const keep = (r: { readonly alert: ServiceAlert; readonly created: boolean }) => {
        if (r.created) raised.push(r.alert)
      }
      const active = yield* allWithStatus("ACTIVE")
      for (const s of active) {
        const since = s.activatedAt ?? s.updatedAt
        if (Option.isSome(usage) && DateTime.distance(since, now) >= settings.noSessionMinutes * 60_000) {
          const recent = yield* usage.value.sessions({
            serviceId: s.id,
            updatedSince: DateTime.subtract(now, { minutes: settings.noSessionMinutes }),
            limit: 1
          })
          const open = recent.length > 0 ? recent : yield* usage.value.sessions({ serviceId: s.id, status: "OPEN", limit: 1 })
          if (open.length === 0) {
            keep(yield* raise({
              serviceId: s.id,
              customerId: s.customerId,
              type: "SLA_BREACH",
              severity: "ERROR",
              title: `No live session for ${s.serviceNumber}`,
              message: `Service ${s.serviceNumber} is ACTIVE but has had no accounting session for ${settings.noSessionMinutes} minutes`,
              cause: "SLA_BREACH:no_session",
              thresholdValue: settings.noSessionMinutes
            }, now))
          }
        }
        if (Option.isSome(templates) && s.activatedAt !== null) {
          const t = yield* templates.value.findById(s.templateId)
          const sla = Option.isSome(t) ? t.value.internet?.activationSlaMinutes ?? null : null
          const took = DateTime.distance(s.createdAt, s.activatedAt) / 60_000
          if (sla !== null && took > sla) {
            keep(yield* raise({
              serviceId: s.id,
              customerId: s.customerId,
              type: "SLA_BREACH",
              severity: "WARNING",
              title: `Slow activation of ${s.serviceNumber}`,
              message: `Activation took ${took.toFixed(1)} minutes; the template's SLA is ${sla}`,
              cause: "SLA_BREACH:activation",
              thresholdValue: sla,
              currentValue: Math.round(took * 10) / 10
            }, now))
          }
        }
      }
      let poolsChecked = 0
      if (Option.isSome(ips)) {
        for (const pool of yield* ips.value.listPools()) {
          poolsChecked++
          const u = yield* Effect.orDie(ips.value.utilisation(pool.id))
          if (u.percentUsed >= settings.poolThresholdPercent) {
            keep(yield* raise({
              poolId: pool.id,
              type: "POOL_NEARLY_EXHAUSTED",
              severity: u.free === 0n ? "CRITICAL" : "WARNING",
              title: `Pool ${pool.name} is ${u.percentUsed.toFixed(1)} % used`,
              message: `${u.assigned} of ${u.total} addresses assigned, ${u.free} free`,
              cause: "POOL_NEARLY_EXHAUSTED",
              thresholdValue: settings.poolThresholdPercent,
              currentValue: u.percentUsed
            }, now))
          }
        }
      }
      const report: CheckReport = { raised, servicesChecked: active.length, poolsChecked }
      return report
    })

    return { raise, acknowledge, resolve, search, findById, stream, check, settings } as const
  })
}) {}
