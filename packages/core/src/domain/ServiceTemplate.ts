/**
 * ServiceTemplate — what *can* be sold: type, speeds, price, billing period, quota + FUP policy,
 * availability, bundle children. The per-type part sits in its own optional field (`internet`,
 * `voice`, `bundle`, `recurring`); the one matching `serviceType` is required.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { BillingModel, BillingPeriod, ServiceType, TemplateCategory } from "./Enums.js"
import { PoolId, TariffId, TemplateId } from "./Ids.js"

/** Non-negative 64-bit byte counts; JSON-encoded as decimal strings so no precision is lost. */
export const Bytes = Schema.BigInt.pipe(Schema.greaterThanOrEqualToBigInt(0n))
export type Bytes = typeof Bytes.Type

const Kbps = Schema.Int.pipe(Schema.positive())

/** MikroTik-style burst: the rate allowed while the average stays under `thresholdKbps` for `timeSeconds`. */
export class Burst extends Schema.Class<Burst>("Burst")({
  downloadKbps: Kbps,
  uploadKbps: Kbps,
  thresholdDownloadKbps: Kbps,
  thresholdUploadKbps: Kbps,
  timeSeconds: Schema.Int.pipe(Schema.positive())
}) {}

/** One FUP tier: once period usage reaches `thresholdBytes`, the service runs at these speeds. */
export class FupTier extends Schema.Class<FupTier>("FupTier")({
  thresholdBytes: Bytes,
  downloadKbps: Kbps,
  uploadKbps: Kbps
}) {}

/** A daily time window (operator's time zone, "HH:MM", may cross midnight) whose traffic does not count. */
export class FreeWindow extends Schema.Class<FreeWindow>("FreeWindow")({
  start: Schema.String.pipe(Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/)),
  end: Schema.String.pipe(Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/))
}) {}

/** Fair-usage policy: tiers ordered by threshold, free windows, and a hysteresis to stop flapping. */
export class FupPolicy extends Schema.Class<FupPolicy>("FupPolicy")({
  tiers: Schema.Array(FupTier),
  freeWindows: Schema.optionalWith(Schema.Array(FreeWindow), { default: () => [] }),
  hysteresisPercent: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 50)), { default: () => 5 })
}) {}

export class InternetSpec extends Schema.Class<InternetSpec>("InternetSpec")({
  downloadSpeedKbps: Kbps,
  uploadSpeedKbps: Kbps,
  burst: Schema.optionalWith(Schema.NullOr(Burst), { default: () => null }),
  /** null = unlimited */
  monthlyDataLimitBytes: Schema.optionalWith(Schema.NullOr(Bytes), { default: () => null }),
  fup: Schema.optionalWith(Schema.NullOr(FupPolicy), { default: () => null }),
  ipPoolId: Schema.optionalWith(Schema.NullOr(PoolId), { default: () => null }),
  ipv6PoolId: Schema.optionalWith(Schema.NullOr(PoolId), { default: () => null }),
  staticIpRequired: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  ipv6Enabled: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  routerProfile: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Rate applied by a SPEED_LIMIT suspension. */
  suspendedSpeedKbps: Schema.optionalWith(Kbps, { default: () => 256 }),
  uptimeSlaPercent: Schema.optionalWith(Schema.NullOr(Schema.Number.pipe(Schema.between(0, 100))), {
    default: () => null
  }),
  /** An activation slower than this raises an SLA_BREACH alert. */
  activationSlaMinutes: Schema.optionalWith(Schema.NullOr(Schema.Int.pipe(Schema.positive())), {
    default: () => null
  })
}) {}

export class VoiceRate extends Schema.Class<VoiceRate>("VoiceRate")({
  prefix: Schema.String.pipe(Schema.pattern(/^\+?\d{0,15}$/)),
  perMinuteRate: Schema.Number.pipe(Schema.nonNegative())
}) {}

export class VoiceSpec extends Schema.Class<VoiceSpec>("VoiceSpec")({
  includedMinutes: Schema.Int.pipe(Schema.nonNegative()),
  perMinuteRate: Schema.Number.pipe(Schema.nonNegative()),
  billingIncrementSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 60 }),
  minimumChargeSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
  rates: Schema.optionalWith(Schema.Array(VoiceRate), { default: () => [] })
}) {}

export class BundleSpec extends Schema.Class<BundleSpec>("BundleSpec")({
  childTemplateIds: Schema.NonEmptyArray(TemplateId),
  discountPercent: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 100)), { default: () => 0 })
}) {}

export class RecurringSpec extends Schema.Class<RecurringSpec>("RecurringSpec")({
  amount: Schema.Number.pipe(Schema.nonNegative()),
  period: BillingPeriod
}) {}

/** Fields shared by create and update requests and the stored template. */
export const TemplateFields = {
  serviceType: ServiceType,
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100), Schema.pattern(/^[A-Za-z0-9_.-]+$/)),
  displayName: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  description: Schema.optionalWith(Schema.String, { default: () => "" }),
  tariffId: TariffId,
  category: Schema.optionalWith(TemplateCategory, { default: () => "RESIDENTIAL" as const }),
  billingModel: Schema.optionalWith(BillingModel, { default: () => "POSTPAID" as const }),
  billingPeriod: Schema.optionalWith(BillingPeriod, { default: () => "MONTHLY" as const }),
  price: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 0 }),
  currency: Schema.optionalWith(Schema.String.pipe(Schema.length(3)), { default: () => "USD" }),
  isActive: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  isPublic: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Region codes where it is sold; empty = everywhere. */
  availableLocations: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  availableFrom: Schema.optionalWith(Schema.NullOr(Schema.DateTimeUtc), { default: () => null }),
  availableUntil: Schema.optionalWith(Schema.NullOr(Schema.DateTimeUtc), { default: () => null }),
  minimumContractMonths: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
  internet: Schema.optionalWith(Schema.NullOr(InternetSpec), { default: () => null }),
  voice: Schema.optionalWith(Schema.NullOr(VoiceSpec), { default: () => null }),
  bundle: Schema.optionalWith(Schema.NullOr(BundleSpec), { default: () => null }),
  recurring: Schema.optionalWith(Schema.NullOr(RecurringSpec), { default: () => null })
}

/** The part that must be present for each service type. */
export const requiredPart = (t: ServiceType): "internet" | "voice" | "bundle" | "recurring" | null =>
  t === "INTERNET" ? "internet" : t === "VOICE" ? "voice" : t === "BUNDLE" ? "bundle" : t === "RECURRING" ? "recurring" : null

/** Input for `ServiceCatalog.create`. */
export class CreateTemplate extends Schema.Class<CreateTemplate>("CreateTemplate")(TemplateFields) {}

/**
 * A partial update: only the fields present change. `serviceType` cannot change once services exist,
 * so it is not updatable.
 */
export class UpdateTemplate extends Schema.Class<UpdateTemplate>("UpdateTemplate")({
  name: Schema.optional(TemplateFields.name),
  displayName: Schema.optional(TemplateFields.displayName),
  description: Schema.optional(Schema.String),
  tariffId: Schema.optional(TariffId),
  category: Schema.optional(TemplateCategory),
  billingModel: Schema.optional(BillingModel),
  billingPeriod: Schema.optional(BillingPeriod),
  price: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  currency: Schema.optional(Schema.String.pipe(Schema.length(3))),
  isActive: Schema.optional(Schema.Boolean),
  isPublic: Schema.optional(Schema.Boolean),
  availableLocations: Schema.optional(Schema.Array(Schema.String)),
  availableFrom: Schema.optional(Schema.NullOr(Schema.DateTimeUtc)),
  availableUntil: Schema.optional(Schema.NullOr(Schema.DateTimeUtc)),
  minimumContractMonths: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  internet: Schema.optional(Schema.NullOr(InternetSpec)),
  voice: Schema.optional(Schema.NullOr(VoiceSpec)),
  bundle: Schema.optional(Schema.NullOr(BundleSpec)),
  recurring: Schema.optional(Schema.NullOr(RecurringSpec))
}) {}

export class ServiceTemplate extends Schema.Class<ServiceTemplate>("ServiceTemplate")({
  id: TemplateId,
  ...TemplateFields,
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc
}) {}
