/**
 * Ports to the network side. Every method is idempotent and desired-state shaped: "make the
 * router/RADIUS hold exactly this for the service", so a retried or re-run workflow step never
 * duplicates an object, and the reconciler can compare `inspect…` with what the database says.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Context, Effect, Layer, Schema } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import type { ServiceId } from "../domain/Ids.js"

/** Rate in kbit/s, download and upload, with an optional MikroTik burst. */
export interface RateLimit {
  readonly downloadKbps: number
  readonly uploadKbps: number
  readonly burst?: {
    readonly downloadKbps: number
    readonly uploadKbps: number
    readonly thresholdDownloadKbps: number
    readonly thresholdUploadKbps: number
    readonly timeSeconds: number
  } | undefined
}

/** What RADIUS should answer for one subscriber. */
export interface RadiusUserSpec {
  readonly serviceId: ServiceId
  readonly customerId: string
  readonly username: string
  readonly password: string
  readonly framedIpAddress: string | null
  readonly framedIpv6Prefix: string | null
  readonly delegatedIpv6Prefix: string | null
  readonly rate: RateLimit
  /** FULL → the suspended group (walled garden); SPEED_LIMIT → `rate` is already the shaped rate. */
  readonly suspended: "NONE" | "FULL" | "SPEED_LIMIT" | "PARTIAL"
  /** Disabled users get `Auth-Type := Reject`. */
  readonly enabled: boolean
  readonly sessionTimeoutSeconds?: number | undefined
}

/** What the RADIUS tables actually hold for a user name (for drift detection). */
export interface RadiusUserState {
  readonly username: string
  readonly check: ReadonlyArray<{ readonly attribute: string; readonly op: string; readonly value: string }>
  readonly reply: ReadonlyArray<{ readonly attribute: string; readonly op: string; readonly value: string }>
  readonly groups: ReadonlyArray<string>
}

export class RadiusError extends Schema.TaggedError<RadiusError>()(
  "RadiusError",
  { operation: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 502 })
) {
  override get message() {
    return `RADIUS ${this.operation} failed: ${this.reason}`
  }
}

/** Writes the subscriber's RADIUS rows (FreeRADIUS SQL tables or another store). */
export interface RadiusProvisioner {
  readonly upsertUser: (spec: RadiusUserSpec) => Effect.Effect<void, RadiusError>
  readonly removeUser: (username: string) => Effect.Effect<void, RadiusError>
  readonly inspectUser: (username: string) => Effect.Effect<RadiusUserState | null, RadiusError>
}
export const RadiusProvisioner = Context.GenericTag<RadiusProvisioner>("@isp-framework/core/RadiusProvisioner")

/** What a router should hold for one service. */
export interface RouterServiceSpec {
  readonly serviceId: ServiceId
  readonly serviceNumber: string
  readonly connectionType: "PPPOE" | "DHCP" | "STATIC"
  readonly pppoeUsername: string | null
  readonly pppoePassword: string | null
  readonly macAddress: string | null
  readonly address: string | null
  readonly rate: RateLimit
  readonly profile: string | null
  /** FULL → the address is on the "suspended" address list (walled garden). */
  readonly suspended: "NONE" | "FULL" | "SPEED_LIMIT" | "PARTIAL"
}

/** What the router actually holds for a service (objects tagged with the service id). */
export interface RouterServiceState {
  readonly pppSecrets: ReadonlyArray<Record<string, string>>
  readonly dhcpLeases: ReadonlyArray<Record<string, string>>
  readonly queues: ReadonlyArray<Record<string, string>>
  readonly addressListEntries: ReadonlyArray<Record<string, string>>
}

export class RouterError extends Schema.TaggedError<RouterError>()(
  "RouterError",
  { routerId: Schema.String, operation: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 502 })
) {
  override get message() {
    return `Router ${this.routerId}: ${this.operation} failed: ${this.reason}`
  }
}

/** Configures routers (MikroTik RouterOS or other) to match a service's desired state. */
export interface RouterProvisioner {
  readonly ensureService: (routerId: string, spec: RouterServiceSpec) => Effect.Effect<void, RouterError>
  readonly removeService: (routerId: string, serviceId: ServiceId) => Effect.Effect<void, RouterError>
  readonly inspectService: (routerId: string, serviceId: ServiceId) => Effect.Effect<RouterServiceState, RouterError>
}
export const RouterProvisioner = Context.GenericTag<RouterProvisioner>("@isp-framework/core/RouterProvisioner")

/** Identifies a live session at a NAS. */
export interface SessionTarget {
  readonly nasId: string
  readonly username: string
  readonly framedIpAddress?: string | null | undefined
  readonly acctSessionId?: string | null | undefined
}

export type SessionControlResult =
  | { readonly _tag: "Ack" }
  | { readonly _tag: "Nak"; readonly errorCause: number | null; readonly errorCauseName: string | null }
  | { readonly _tag: "NoResponse"; readonly attempts: number }

/** Changes (RFC 5176 CoA) or ends (Disconnect-Message) a live session. */
export interface NasSessionControl {
  readonly changeRate: (
    target: SessionTarget,
    rate: RateLimit,
    options?: { readonly addressList?: string | null }
  ) => Effect.Effect<SessionControlResult>
  readonly disconnect: (target: SessionTarget) => Effect.Effect<SessionControlResult>
}
export const NasSessionControl = Context.GenericTag<NasSessionControl>("@isp-framework/core/NasSessionControl")

/** Billing callbacks the ISP implements; the default does nothing. Called once per transition. */
export interface BillingHooks {
  readonly onActivated: (service: CustomerService) => Effect.Effect<void>
  readonly onSuspended: (service: CustomerService) => Effect.Effect<void>
  readonly onResumed: (service: CustomerService) => Effect.Effect<void>
  readonly onTerminated: (service: CustomerService) => Effect.Effect<void>
}
export const BillingHooks = Context.GenericTag<BillingHooks>("@isp-framework/core/BillingHooks")

/** A `BillingHooks` that does nothing. */
export const BillingHooksNoop: Layer.Layer<BillingHooks> = Layer.succeed(BillingHooks, {
  onActivated: () => Effect.void,
  onSuspended: () => Effect.void,
  onResumed: () => Effect.void,
  onTerminated: () => Effect.void
})
