/**
 * FupEnforcer — turns usage into actions. After each ingest (or on a tick) it evaluates, per
 * affected service:
 *
 * - quota alerts: QUOTA_WARNING / QUOTA_EXCEEDED when this batch's usage crossed a threshold of
 *   the template's data limit in the current billing period (one open alert per threshold);
 * - Smart FUP: `Fup.evaluate` on the period's hourly buckets; when the decided speed differs from
 *   the service's current speed, `ServiceProvisioning.changeSpeed` (CHANGE_SPEED: RADIUS rate,
 *   router queue, CoA) plus a FUP_APPLIED alert; back at plan speed (new period) the alert resolves;
 * - prepaid: an exhausted balance suspends the service (QUOTA_EXHAUSTED / NON_PAYMENT), a top-up
 *   that covers the usage resumes it.
 *
 * The last FUP decision per service is kept in memory for hysteresis; after a restart the first
 * evaluation starts from the raw tier (within a billing period usage only grows, so this matters
 * only for usage corrections).
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Option, Ref } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import type { ServiceId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { PrepaidBalances, type IngestResult, type PrepaidAccount } from "../ports/UsageStore.js"
import * as Fup from "../usage/Fup.js"
import { ServiceAlerts } from "./ServiceAlerts.js"
import { ServiceProvisioning } from "./ServiceProvisioning.js"
import { ServiceUsage } from "./ServiceUsage.js"

/** What one evaluation did. */
export interface Enforcement {
  readonly serviceId: ServiceId
  readonly fup: Fup.FupState | null
  readonly speedChanged: boolean
  readonly suspended: boolean
  readonly resumed: boolean
  readonly quotaAlerts: ReadonlyArray<Fup.QuotaAlert>
}

const QUOTA_SUSPENSIONS = new Set(["QUOTA_EXHAUSTED", "NON_PAYMENT"])

export class FupEnforcer extends Effect.Service<FupEnforcer>()("@isp-framework/core/FupEnforcer", {
  effect: Effect.gen(function*() {
    const usage = yield* ServiceUsage
    const services = yield* ServiceRepository
    const provisioning = yield* ServiceProvisioning
    const alerts = yield* ServiceAlerts
    const prepaidBalances = yield* Effect.serviceOption(PrepaidBalances)
    const previous = yield* Ref.make(new Map<ServiceId, Fup.FupState>())
    /** Services we throttled or suspended: the tick re-evaluates them (period reset, top-up). */
    const watched = yield* Ref.make(new Set<ServiceId>())
    const watch = (id: ServiceId, on: boolean) =>
      Ref.update(watched, (s) => {
        const n = new Set(s)
        if (on) n.add(id)
        else n.delete(id)
        return n
      })

    const resolveOpen = (service: CustomerService, type: string, note: string) =>
      Effect.gen(function*() {
        const page = yield* Effect.orDie(alerts.search({ service_id: service.id, type, status__in: "OPEN,ACKNOWLEDGED" }))
        for (const a of page.items) yield* Effect.ignore(alerts.resolve(a.id, "system:fup", note))
      })

    const unenforced = (serviceId: ServiceId): Enforcement =>
      ({ serviceId, fup: null, speedChanged: false, suspended: false, resumed: false, quotaAlerts: [] })

    const evaluateWith = (serviceId: ServiceId, now: DateTime.Utc, batchBytes: bigint) =>
      Effect.gen(function*() {
        const none = unenforced(serviceId)
        const found = yield* Effect.option(usage.loadService(serviceId))
        if (Option.isNone(found)) return none
        const service = found.value
        const quotaSuspended = service.status === "SUSPENDED" && QUOTA_SUSPENSIONS.has(service.suspensionReason ?? "")
        if (service.status !== "ACTIVE" && !quotaSuspended) return none
        const template = yield* usage.templateOf(service)
        const pos = yield* usage.position(service, template, now)

        // Quota alerts for thresholds this batch crossed.
        const before = pos.periodBytes > batchBytes ? pos.periodBytes - batchBytes : 0n
        const crossed = batchBytes > 0n
          ? Fup.quotaAlerts(pos.quota.limit, before, pos.periodBytes, usage.settings.quotaThresholds)
          : []
        for (const q of crossed) {
          yield* alerts.raise({
            serviceId,
            customerId: service.customerId,
            type: q.type,
            severity: q.type === "QUOTA_EXCEEDED" ? "ERROR" : "WARNING",
            title: `${service.serviceNumber} used ${q.threshold} % of its data quota`,
            message: `${pos.periodBytes} of ${pos.quota.limit} bytes used in the period from ${DateTime.formatIso(pos.period.start)}`,
            cause: q.cause,
            thresholdValue: q.threshold,
            currentValue: pos.quota.percent
          }, now)
        }

        // Prepaid: suspend when exhausted, resume when a top-up covers the usage again.
        let suspended = false
        let resumed = false
        if (pos.prepaid !== null) {
          if (pos.prepaid.exhausted && service.status === "ACTIVE") {
            const reason = pos.prepaid.suspendReason ?? "QUOTA_EXHAUSTED"
            yield* Effect.orDie(provisioning.suspend(serviceId, { reason, suspensionType: "FULL", note: "prepaid balance exhausted" }))
            yield* alerts.raise({
              serviceId,
              customerId: service.customerId,
              type: "QUOTA_EXCEEDED",
              severity: "ERROR",
              title: `${service.serviceNumber}: prepaid balance exhausted`,
              message: `Suspended (${reason}) after ${pos.prepaidUsed} bytes; the balance covered ${pos.prepaid.coveredBytes}`,
              cause: "QUOTA_EXCEEDED:prepaid"
            }, now)
            yield* watch(serviceId, true)
            suspended = true
          } else if (!pos.prepaid.exhausted && quotaSuspended) {
            yield* Effect.orDie(provisioning.resume(serviceId, { note: "prepaid balance topped up" }))
            yield* resolveOpen(service, "QUOTA_EXCEEDED", "balance topped up")
            resumed = true
          }
        }
        if (service.status !== "ACTIVE" || suspended) {
          return { ...none, suspended, resumed, quotaAlerts: crossed }
        }

        // Smart FUP.
        const prev = (yield* Ref.get(previous)).get(serviceId) ?? null
        const fup = usage.fupDecision(pos, now, prev)
        let speedChanged = false
        if (fup !== null) {
          yield* Ref.update(previous, (m) => new Map(m).set(serviceId, fup))
          if (service.downloadSpeedKbps !== fup.downloadKbps || service.uploadSpeedKbps !== fup.uploadKbps) {
            yield* Effect.orDie(provisioning.changeSpeed(serviceId, { downloadKbps: fup.downloadKbps, uploadKbps: fup.uploadKbps }, {
              note: fup.tierIndex === null ? "FUP: plan speed restored" : `FUP tier ${fup.tierIndex + 1}`
            }))
            speedChanged = true
            if (fup.tierIndex !== null) {
              yield* alerts.raise({
                serviceId,
                customerId: service.customerId,
                type: "FUP_APPLIED",
                severity: "INFO",
                title: `${service.serviceNumber} slowed to ${fup.downloadKbps}/${fup.uploadKbps} kbit/s`,
                message: `Fair-usage tier ${fup.tierIndex + 1} after ${fup.countedBytes} counted bytes this period`,
                cause: "FUP_APPLIED",
                currentValue: Number(fup.countedBytes)
              }, now)
              yield* watch(serviceId, true)
            } else {
              yield* resolveOpen(service, "FUP_APPLIED", "plan speed restored")
              yield* watch(serviceId, false)
            }
          }
        }
        return { serviceId, fup, speedChanged, suspended, resumed, quotaAlerts: crossed } satisfies Enforcement
      })

    /** Evaluates one service now (or at `at`). */
    const evaluate = Effect.fn("FupEnforcer.evaluate")(function*(serviceId: ServiceId, at?: DateTime.Utc) {
      return yield* evaluateWith(serviceId, at ?? (yield* DateTime.now), 0n)
    })

    /**
     * Whether usage can make anything happen to `service`: a data limit or FUP tiers on its plan, or
     * a prepaid balance. Most services of an ISP have none (unlimited plans), and evaluating one
     * costs several reads.
     */
    const enforceable = (service: CustomerService, template: ServiceTemplate | null) =>
      Effect.gen(function*() {
        const internet = template?.internet ?? null
        if (internet !== null && (internet.monthlyDataLimitBytes !== null || (internet.fup?.tiers.length ?? 0) > 0)) return true
        return Option.isSome(prepaidBalances) && Option.isSome(yield* prepaidBalances.value.get(service.id))
      })

    /** Evaluates every service an ingest touched; the batch's own bytes decide which quota thresholds are new. */
    const afterIngest = Effect.fn("FupEnforcer.afterIngest")(function*(result: IngestResult, at?: DateTime.Utc) {
      const now = at ?? (yield* DateTime.now)
      const bytes = new Map<ServiceId, bigint>()
      for (const d of result.deltas) {
        if (d.serviceId === null) continue
        bytes.set(d.serviceId, (bytes.get(d.serviceId) ?? 0n) + d.bytesIn + d.bytesOut)
      }
      // One read for the batch's services and one per distinct plan; only services usage can act
      // on are evaluated (each evaluation reads the service, its plan and its usage again).
      const found = new Map((yield* services.getMany(result.affectedServices)).map((s) => [s.id, s] as const))
      const plans = new Map<string, ServiceTemplate | null>()
      const out: Array<Enforcement> = []
      for (const id of result.affectedServices) {
        const service = found.get(id)
        if (service !== undefined) {
          let template = plans.get(service.templateId)
          if (template === undefined) {
            template = yield* usage.templateOf(service)
            plans.set(service.templateId, template)
          }
          if (yield* enforceable(service, template)) {
            out.push(yield* evaluateWith(id, now, bytes.get(id) ?? 0n))
            continue
          }
        }
        out.push(unenforced(id))
      }
      return out
    })

    /** Re-evaluates throttled / suspended services (a new period restores plan speed). */
    const tick = Effect.fn("FupEnforcer.tick")(function*(at?: DateTime.Utc) {
      const now = at ?? (yield* DateTime.now)
      const out: Array<Enforcement> = []
      for (const id of yield* Ref.get(watched)) out.push(yield* evaluateWith(id, now, 0n))
      return out
    })

    /** Stores a new prepaid balance (a top-up) and re-evaluates: a covered service is resumed. */
    const topUp = Effect.fn("FupEnforcer.topUp")(function*(account: PrepaidAccount, at?: DateTime.Utc) {
      if (Option.isNone(prepaidBalances)) return yield* Effect.dieMessage("FupEnforcer.topUp needs a PrepaidBalances layer")
      yield* prepaidBalances.value.put(account)
      return yield* evaluateWith(account.serviceId, at ?? (yield* DateTime.now), 0n)
    })

    return { evaluate, afterIngest, tick, topUp } as const
  })
}) {}
