/**
 * The service status machine, as one pure function: (service, event) → the next service plus the
 * side effects the transition implies, or a typed `InvalidTransition` naming the status and event.
 * Nothing here performs I/O; workflows and use-cases carry the effects out.
 *
 * ```
 * PENDING ──ProvisioningSucceeded──▶ ACTIVE ──Suspend──▶ SUSPENDED
 *    │  └─ProvisioningFailed─▶ FAILED ─Retry─▶ PENDING    ◀──Resume──┘
 *    └──────────── Terminate (from any status but TERMINATED) ───────▶ TERMINATED
 *                                   ACTIVE ──Expire──▶ EXPIRED
 * ```
 *
 * @since 0.1.0
 */
import { type DateTime, Either, Schema } from "effect"
import { CustomerService } from "../domain/CustomerService.js"
import { ServiceStatus, SuspensionReason, SuspensionType } from "../domain/Enums.js"
import { InvalidTransition } from "../domain/Errors.js"
import { TemplateId, TariffId } from "../domain/Ids.js"

/** Everything that can happen to a service. */
export const LifecycleEvent = Schema.Union(
  Schema.TaggedStruct("ProvisioningSucceeded", {}),
  Schema.TaggedStruct("ProvisioningFailed", { error: Schema.String }),
  Schema.TaggedStruct("RetryProvisioning", {}),
  Schema.TaggedStruct("Suspend", {
    reason: SuspensionReason,
    suspensionType: SuspensionType,
    /** The shaped rate for SPEED_LIMIT / PARTIAL suspensions. */
    shapedKbps: Schema.optional(Schema.Int.pipe(Schema.positive()))
  }),
  Schema.TaggedStruct("Resume", {
    /** The plan's speeds to restore. */
    downloadKbps: Schema.NullOr(Schema.Int),
    uploadKbps: Schema.NullOr(Schema.Int)
  }),
  Schema.TaggedStruct("Terminate", {}),
  Schema.TaggedStruct("Expire", {}),
  Schema.TaggedStruct("ChangePlan", {
    templateId: TemplateId,
    tariffId: TariffId,
    downloadKbps: Schema.NullOr(Schema.Int),
    uploadKbps: Schema.NullOr(Schema.Int)
  }),
  /** A speed change that is not a plan change (Smart FUP tier). */
  Schema.TaggedStruct("ChangeSpeed", { downloadKbps: Schema.Int, uploadKbps: Schema.Int })
)
export type LifecycleEvent = typeof LifecycleEvent.Type
export type EventTag = LifecycleEvent["_tag"]

/** Every event tag, for tables and property tests. */
export const eventTags: ReadonlyArray<EventTag> = [
  "ProvisioningSucceeded",
  "ProvisioningFailed",
  "RetryProvisioning",
  "Suspend",
  "Resume",
  "Terminate",
  "Expire",
  "ChangePlan",
  "ChangeSpeed"
]

/** Side effects a transition implies; a workflow turns each into idempotent steps. */
export type LifecycleEffect =
  | { readonly _tag: "StartBilling" }
  | { readonly _tag: "PauseBilling" }
  | { readonly _tag: "ResumeBilling" }
  | { readonly _tag: "StopBilling" }
  | { readonly _tag: "ChangeBillingPlan"; readonly tariffId: string }
  | { readonly _tag: "ApplySuspension"; readonly suspensionType: SuspensionType }
  | { readonly _tag: "LiftSuspension" }
  | { readonly _tag: "ApplyShaping"; readonly downloadKbps: number; readonly uploadKbps: number }
  | { readonly _tag: "UpdateLiveSession" }
  | { readonly _tag: "DisconnectSession" }
  | { readonly _tag: "DisableRadiusUser" }
  | { readonly _tag: "RemoveRouterConfig" }
  | { readonly _tag: "ReleaseIp" }
  | { readonly _tag: "ReleaseResources" }
  | { readonly _tag: "RaiseProvisioningAlert"; readonly error: string }

/** The statuses an event may start from. Anything else is an `InvalidTransition`. */
export const allowedFrom: { readonly [K in EventTag]: ReadonlyArray<ServiceStatus> } = {
  ProvisioningSucceeded: ["PENDING"],
  ProvisioningFailed: ["PENDING"],
  RetryProvisioning: ["FAILED"],
  Suspend: ["ACTIVE"],
  Resume: ["SUSPENDED"],
  Terminate: ["PENDING", "ACTIVE", "SUSPENDED", "FAILED", "EXPIRED"],
  Expire: ["ACTIVE"],
  ChangePlan: ["ACTIVE", "SUSPENDED"],
  ChangeSpeed: ["ACTIVE"]
}

/** The status an allowed event leads to, given the current status. */
export const nextStatus = (status: ServiceStatus, tag: EventTag): ServiceStatus => {
  switch (tag) {
    case "ProvisioningSucceeded":
    case "Resume":
      return "ACTIVE"
    case "ProvisioningFailed":
      return "FAILED"
    case "RetryProvisioning":
      return "PENDING"
    case "Suspend":
      return "SUSPENDED"
    case "Terminate":
      return "TERMINATED"
    case "Expire":
      return "EXPIRED"
    case "ChangePlan":
    case "ChangeSpeed":
      return status
  }
}

/**
 * Decides on status alone: the next status, or the `InvalidTransition`. Handy for UIs that grey out
 * buttons and for exhaustive table tests.
 */
export const decide = (status: ServiceStatus, tag: EventTag): Either.Either<ServiceStatus, InvalidTransition> =>
  allowedFrom[tag].includes(status)
    ? Either.right(nextStatus(status, tag))
    : Either.left(new InvalidTransition({ status, event: tag }))

/** The outcome of an allowed transition. */
export interface Transition {
  readonly previous: CustomerService
  readonly next: CustomerService
  readonly event: LifecycleEvent
  readonly effects: ReadonlyArray<LifecycleEffect>
}

const effectsOf = (service: CustomerService, event: LifecycleEvent): ReadonlyArray<LifecycleEffect> => {
  switch (event._tag) {
    case "ProvisioningSucceeded":
      return [{ _tag: "StartBilling" }]
    case "ProvisioningFailed":
      return [{ _tag: "ReleaseResources" }, { _tag: "RaiseProvisioningAlert", error: event.error }]
    case "RetryProvisioning":
      return []
    case "Suspend":
      return [
        { _tag: "ApplySuspension", suspensionType: event.suspensionType },
        { _tag: "UpdateLiveSession" },
        { _tag: "PauseBilling" }
      ]
    case "Resume":
      return [{ _tag: "LiftSuspension" }, { _tag: "UpdateLiveSession" }, { _tag: "ResumeBilling" }]
    case "Terminate": {
      const wasLive = service.status === "ACTIVE" || service.status === "SUSPENDED"
      return [
        ...(wasLive ? [{ _tag: "StopBilling" } as const] : []),
        { _tag: "DisableRadiusUser" },
        { _tag: "RemoveRouterConfig" },
        { _tag: "DisconnectSession" },
        { _tag: "ReleaseIp" }
      ]
    }
    case "Expire":
      return [
        { _tag: "StopBilling" },
        { _tag: "DisableRadiusUser" },
        { _tag: "DisconnectSession" },
        { _tag: "ReleaseIp" }
      ]
    case "ChangePlan":
      return [
        { _tag: "ChangeBillingPlan", tariffId: event.tariffId },
        ...(service.status === "ACTIVE" && event.downloadKbps !== null && event.uploadKbps !== null
          ? [
            { _tag: "ApplyShaping", downloadKbps: event.downloadKbps, uploadKbps: event.uploadKbps } as const,
            { _tag: "UpdateLiveSession" } as const
          ]
          : [])
      ]
    case "ChangeSpeed":
      return [
        { _tag: "ApplyShaping", downloadKbps: event.downloadKbps, uploadKbps: event.uploadKbps },
        { _tag: "UpdateLiveSession" }
      ]
  }
}

const applyFields = (s: CustomerService, event: LifecycleEvent, now: DateTime.Utc): Partial<CustomerService> => {
  switch (event._tag) {
    case "ProvisioningSucceeded":
      return { activatedAt: s.activatedAt ?? now }
    case "ProvisioningFailed":
    case "RetryProvisioning":
      return {}
    case "Suspend":
      return {
        suspensionReason: event.reason,
        suspensionType: event.suspensionType,
        suspendedAt: now,
        ...(event.suspensionType !== "FULL" && event.shapedKbps !== undefined
          ? { downloadSpeedKbps: event.shapedKbps, uploadSpeedKbps: event.shapedKbps }
          : {})
      }
    case "Resume":
      return {
        suspensionReason: null,
        suspensionType: null,
        suspendedAt: null,
        downloadSpeedKbps: event.downloadKbps,
        uploadSpeedKbps: event.uploadKbps
      }
    case "Terminate":
    case "Expire":
      return { terminatedAt: now }
    case "ChangePlan":
      return {
        templateId: event.templateId,
        tariffId: event.tariffId,
        // A suspended service keeps its shaped speed; the new plan's speed applies on resume.
        ...(s.status === "ACTIVE" ? { downloadSpeedKbps: event.downloadKbps, uploadSpeedKbps: event.uploadKbps } : {})
      }
    case "ChangeSpeed":
      return { downloadSpeedKbps: event.downloadKbps, uploadSpeedKbps: event.uploadKbps }
  }
}

/**
 * Applies `event` to `service` at `now`. The next service has `version + 1`, `updatedAt = now`
 * and the status and fields the event implies; `effects` lists what must happen outside.
 */
export const transition = (
  service: CustomerService,
  event: LifecycleEvent,
  now: DateTime.Utc
): Either.Either<Transition, InvalidTransition> =>
  Either.map(decide(service.status, event._tag), (status) => {
    const next = new CustomerService({
      ...service,
      ...applyFields(service, event, now),
      status,
      updatedAt: now,
      version: service.version + 1
    })
    return { previous: service, next, event, effects: effectsOf(service, event) }
  })

/** True when no event can leave the status. */
export const isFinal = (status: ServiceStatus): boolean => status === "TERMINATED"

/** Statuses that hold network resources (IP, RADIUS user, router objects). */
export const holdsResources = (status: ServiceStatus): boolean =>
  status === "ACTIVE" || status === "SUSPENDED" || status === "PENDING"
