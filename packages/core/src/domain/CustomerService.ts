/**
 * CustomerService — what *is* sold to a customer. Its status changes only through `lifecycle/`;
 * every change is recorded as a {@link StatusChange}. `version` increments on every write so
 * concurrent writers are detected (compare-and-set), never silently overwritten.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { BillingModel, ConnectionType, ServiceStatus, ServiceType, SuspensionReason, SuspensionType } from "./Enums.js"
import { CustomerId, RouterId, ServiceId, TariffId, TemplateId } from "./Ids.js"

/** A MAC address, normalised to lower-case colon form on decode. */
export const MacAddress = Schema.transform(
  Schema.String.pipe(Schema.pattern(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{12}$/, {
    message: () => "expected a MAC address like aa:bb:cc:dd:ee:ff"
  })),
  Schema.String.pipe(Schema.pattern(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)),
  {
    strict: true,
    decode: (s) => s.toLowerCase().replace(/[^0-9a-f]/g, "").match(/../g)!.join(":"),
    encode: (s) => s
  }
).pipe(Schema.brand("MacAddress"))
export type MacAddress = typeof MacAddress.Type

/** PPPoE / RADIUS user name: printable, no spaces, at most 64 characters. */
export const PppoeUsername = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._@+-]{1,64}$/, {
  message: () => "expected 1-64 characters of letters, digits and . _ @ + -"
}))

export class CustomerService extends Schema.Class<CustomerService>("CustomerService")({
  id: ServiceId,
  /** Unique, human readable (e.g. "SVC-000123"). */
  serviceNumber: Schema.String,
  customerId: CustomerId,
  templateId: TemplateId,
  tariffId: TariffId,
  serviceType: ServiceType,
  status: ServiceStatus,
  suspensionReason: Schema.NullOr(SuspensionReason),
  suspensionType: Schema.NullOr(SuspensionType),
  connectionType: ConnectionType,
  pppoeUsername: Schema.NullOr(Schema.String),
  /** Stored for RADIUS (Cleartext-Password); redacted in logs, never returned by the HTTP API. */
  pppoePassword: Schema.NullOr(Schema.Redacted(Schema.String)),
  macAddress: Schema.NullOr(Schema.String),
  circuitId: Schema.NullOr(Schema.String),
  routerId: Schema.NullOr(RouterId),
  location: Schema.NullOr(Schema.String),
  billingModel: BillingModel,
  /** Current speeds (after FUP or suspension shaping); null for non-internet services. */
  downloadSpeedKbps: Schema.NullOr(Schema.Int),
  uploadSpeedKbps: Schema.NullOr(Schema.Int),
  /** A static IPv4 address requested at provisioning time. */
  requestedIp: Schema.NullOr(Schema.String),
  activatedAt: Schema.NullOr(Schema.DateTimeUtc),
  suspendedAt: Schema.NullOr(Schema.DateTimeUtc),
  terminatedAt: Schema.NullOr(Schema.DateTimeUtc),
  contractStart: Schema.NullOr(Schema.DateTimeUtc),
  contractEnd: Schema.NullOr(Schema.DateTimeUtc),
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc,
  version: Schema.Int
}) {}

/** Input for `ServiceLifecycle.create`: a PENDING service from a template. */
export class CreateService extends Schema.Class<CreateService>("CreateService")({
  customerId: CustomerId,
  templateId: TemplateId,
  /** Defaults to the template's tariff. */
  tariffId: Schema.optional(TariffId),
  connectionType: Schema.optionalWith(ConnectionType, { default: () => "PPPOE" as const }),
  pppoeUsername: Schema.optional(PppoeUsername),
  pppoePassword: Schema.optional(Schema.Redacted(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)))),
  macAddress: Schema.optional(MacAddress),
  circuitId: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(253))),
  routerId: Schema.optional(RouterId),
  location: Schema.optional(Schema.String),
  requestedIp: Schema.optional(Schema.String),
  contractStart: Schema.optional(Schema.DateTimeUtc),
  contractEnd: Schema.optional(Schema.DateTimeUtc)
}) {}
