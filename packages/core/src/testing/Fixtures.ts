/**
 * Builders and fast-check arbitraries for the domain models, for tests of this library and of
 * adapters. Every builder returns a valid model instance with fresh ids and fresh unique values
 * (template name, service number, PPPoE username), so records can go into a shared store — a
 * database used by other tests — without clashing. Pass overrides for what the test is about.
 *
 * @since 0.1.0
 */
import { DateTime, Redacted } from "effect"
import * as fc from "fast-check"
import { randomBytes } from "node:crypto"
import { RaiseAlert, ServiceAlert } from "../domain/Alert.js"
import { CustomerService } from "../domain/CustomerService.js"
import type {
  AlertSeverity,
  AlertType,
  BillingModel,
  ConnectionType,
  ServiceStatus,
  ServiceType,
  TemplateCategory
} from "../domain/Enums.js"
import type { CustomerId, ServiceId, TariffId } from "../domain/Ids.js"
import {
  BundleSpec,
  InternetSpec,
  RecurringSpec,
  requiredPart,
  ServiceTemplate,
  VoiceSpec
} from "../domain/ServiceTemplate.js"
import { StatusChange } from "../domain/StatusChange.js"
import { ProvisioningWorkflow, WorkflowStep } from "../domain/Workflow.js"
import { uuidv7 } from "../internal/uuid.js"

/** A mutable, all-optional view of a model's fields, for overrides. */
export type Overrides<A> = { -readonly [K in keyof A]?: A[K] }

/**
 * A fresh UUIDv7 (wall-clock based, never repeats).
 *
 * @since 0.1.0
 */
export const freshId = <A extends string = string>(): A => uuidv7(Date.now()) as A

/**
 * `prefix` plus 12 random hex digits: a value no other test uses.
 *
 * @since 0.1.0
 */
export const unique = (prefix: string): string => `${prefix}${randomBytes(6).toString("hex")}`

/**
 * The default instant of fixtures: 2026-01-01T00:00:00Z.
 *
 * @since 0.1.0
 */
export const baseTime: DateTime.Utc = DateTime.unsafeMake("2026-01-01T00:00:00Z")

const defaultPart = (t: ServiceType) => {
  switch (requiredPart(t)) {
    case "internet":
      return { internet: new InternetSpec({ downloadSpeedKbps: 50_000, uploadSpeedKbps: 10_000 }) }
    case "voice":
      return { voice: new VoiceSpec({ includedMinutes: 100, perMinuteRate: 0.05 }) }
    case "bundle":
      return { bundle: new BundleSpec({ childTemplateIds: [freshId()] }) }
    case "recurring":
      return { recurring: new RecurringSpec({ amount: 10, period: "MONTHLY" }) }
    default:
      return {}
  }
}

/**
 * A valid template (INTERNET, 50/10 Mbit/s by default) with a fresh id and unique name.
 *
 * @since 0.1.0
 */
export const makeTemplate = (overrides: Overrides<ServiceTemplate> = {}): ServiceTemplate => {
  const serviceType = overrides.serviceType ?? "INTERNET"
  return new ServiceTemplate({
    id: freshId(),
    serviceType,
    name: unique("tpl-"),
    displayName: "Test plan",
    description: "",
    tariffId: "tariff-test" as TariffId,
    category: "RESIDENTIAL",
    billingModel: "POSTPAID",
    billingPeriod: "MONTHLY",
    price: 29.99,
    currency: "USD",
    isActive: true,
    isPublic: true,
    availableLocations: [],
    availableFrom: null,
    availableUntil: null,
    minimumContractMonths: 0,
    internet: null,
    voice: null,
    bundle: null,
    recurring: null,
    createdAt: baseTime,
    updatedAt: baseTime,
    ...defaultPart(serviceType),
    ...overrides
  })
}

/**
 * A valid PENDING PPPoE internet service with a fresh id, unique service number ("FX-…", never
 * "SVC-…" so it cannot collide with `nextServiceNumber`), unique customer and PPPoE username.
 * Point `templateId` at a stored template where the backend enforces foreign keys.
 *
 * @since 0.1.0
 */
export const makeService = (overrides: Overrides<CustomerService> = {}): CustomerService =>
  new CustomerService({
    id: freshId(),
    serviceNumber: unique("FX-"),
    customerId: unique("cust-") as CustomerId,
    templateId: freshId(),
    tariffId: "tariff-test" as TariffId,
    serviceType: "INTERNET",
    status: "PENDING",
    suspensionReason: null,
    suspensionType: null,
    connectionType: "PPPOE",
    pppoeUsername: unique("u-"),
    pppoePassword: Redacted.make("secret"),
    macAddress: null,
    circuitId: null,
    routerId: null,
    location: null,
    billingModel: "POSTPAID",
    downloadSpeedKbps: 50_000,
    uploadSpeedKbps: 10_000,
    requestedIp: null,
    activatedAt: null,
    suspendedAt: null,
    terminatedAt: null,
    contractStart: null,
    contractEnd: null,
    createdAt: baseTime,
    updatedAt: baseTime,
    version: 1,
    ...overrides
  })

/**
 * A history row for `service` (by default its creation row: no previous status, `at = updatedAt`).
 *
 * @since 0.1.0
 */
export const makeStatusChange = (service: CustomerService, overrides: Overrides<StatusChange> = {}): StatusChange =>
  new StatusChange({
    id: freshId(),
    serviceId: service.id,
    customerId: service.customerId,
    previousStatus: null,
    nextStatus: service.status,
    event: "Create",
    reason: null,
    note: null,
    changedBy: "test",
    changeMethod: "API",
    at: service.updatedAt,
    ...overrides
  })

/**
 * A PENDING ACTIVATE workflow with one pending step, due at `baseTime`, unleased.
 *
 * @since 0.1.0
 */
export const makeWorkflow = (overrides: Overrides<ProvisioningWorkflow> = {}): ProvisioningWorkflow =>
  new ProvisioningWorkflow({
    id: freshId(),
    serviceId: freshId(),
    customerId: unique("cust-") as CustomerId,
    kind: "ACTIVATE",
    status: "PENDING",
    steps: [
      new WorkflowStep({
        name: "allocate-ip",
        status: "PENDING",
        attempts: 0,
        lastError: null,
        startedAt: null,
        finishedAt: null,
        output: null
      })
    ],
    input: {},
    idempotencyKey: null,
    lockedBy: null,
    lockedUntil: null,
    nextRunAt: baseTime,
    lastError: null,
    createdAt: baseTime,
    updatedAt: baseTime,
    finishedAt: null,
    ...overrides
  })

/**
 * Input for `AlertRepository.raise`: a QUOTA_WARNING with a unique cause unless overridden.
 *
 * @since 0.1.0
 */
export const makeRaiseAlert = (overrides: Overrides<RaiseAlert> = {}): RaiseAlert =>
  new RaiseAlert({
    serviceId: null,
    customerId: null,
    poolId: null,
    type: "QUOTA_WARNING",
    severity: "WARNING",
    title: "Quota at 80%",
    message: "The service has used 80% of its monthly quota",
    cause: unique("QUOTA_WARNING:80:"),
    thresholdValue: 80,
    currentValue: 81,
    ...overrides
  })

// ---------------------------------------------------------------------------------------------
// Arbitraries. Ids and unique values are drawn fresh (not from the seed) so generated records can
// be stored in a shared store; everything a filter looks at comes from the arbitrary.

const arbInstant = fc
  .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => DateTime.unsafeMake(d))
const arbKbps = fc.integer({ min: 64, max: 10_000_000 })
const arbText = fc.stringMatching(/^[A-Za-z0-9 _.-]{1,24}$/)

/**
 * Valid templates of every service type with random prices, flags, locations and dates.
 *
 * @since 0.1.0
 */
export const arbTemplate: fc.Arbitrary<ServiceTemplate> = fc
  .record({
    serviceType: fc.constantFrom<ServiceType>("INTERNET", "VOICE", "BUNDLE", "RECURRING", "ADDON", "ONE_TIME"),
    namePrefix: fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/),
    displayName: arbText,
    tariffId: fc.stringMatching(/^[a-z0-9-]{1,16}$/),
    category: fc.constantFrom<TemplateCategory>("RESIDENTIAL", "BUSINESS", "ENTERPRISE"),
    billingModel: fc.constantFrom<BillingModel>("POSTPAID", "PREPAID", "HYBRID"),
    price: fc.integer({ min: 0, max: 100_000 }).map((cents) => cents / 100),
    isActive: fc.boolean(),
    isPublic: fc.boolean(),
    availableLocations: fc.uniqueArray(fc.constantFrom("north", "south", "east", "west"), { maxLength: 3 }),
    minimumContractMonths: fc.integer({ min: 0, max: 36 }),
    down: arbKbps,
    up: arbKbps,
    createdAt: arbInstant
  })
  .map((r) =>
    makeTemplate({
      serviceType: r.serviceType,
      name: `${r.namePrefix}-${unique("")}`,
      displayName: r.displayName,
      tariffId: r.tariffId as TariffId,
      category: r.category,
      billingModel: r.billingModel,
      price: r.price,
      isActive: r.isActive,
      isPublic: r.isPublic,
      availableLocations: r.availableLocations,
      minimumContractMonths: r.minimumContractMonths,
      ...(r.serviceType === "INTERNET"
        ? { internet: new InternetSpec({ downloadSpeedKbps: r.down, uploadSpeedKbps: r.up }) }
        : {}),
      createdAt: r.createdAt,
      updatedAt: r.createdAt
    })
  )

/**
 * Valid services in every status and connection type with random customers (from a small set, so
 * filters on `customer_id` match several), speeds, locations and timestamps.
 *
 * @since 0.1.0
 */
export const arbService: fc.Arbitrary<CustomerService> = fc
  .record({
    customer: fc.integer({ min: 1, max: 5 }),
    status: fc.constantFrom<ServiceStatus>("PENDING", "ACTIVE", "SUSPENDED", "TERMINATED", "FAILED", "EXPIRED"),
    connectionType: fc.constantFrom<ConnectionType>("PPPOE", "DHCP", "STATIC"),
    billingModel: fc.constantFrom<BillingModel>("POSTPAID", "PREPAID", "HYBRID"),
    location: fc.option(fc.constantFrom("north", "south", "east", "west"), { nil: null }),
    down: fc.option(arbKbps, { nil: null }),
    up: fc.option(arbKbps, { nil: null }),
    createdAt: arbInstant,
    ageMillis: fc.integer({ min: 0, max: 90 * 86_400_000 }),
    version: fc.integer({ min: 1, max: 20 })
  })
  .map((r) => {
    const updatedAt = DateTime.unsafeMake(DateTime.toEpochMillis(r.createdAt) + r.ageMillis)
    return makeService({
      customerId: `cust-${r.customer}` as CustomerId,
      status: r.status,
      suspensionReason: r.status === "SUSPENDED" ? "NON_PAYMENT" : null,
      suspensionType: r.status === "SUSPENDED" ? "FULL" : null,
      connectionType: r.connectionType,
      pppoeUsername: r.connectionType === "PPPOE" ? unique("u-") : null,
      pppoePassword: r.connectionType === "PPPOE" ? Redacted.make("secret") : null,
      macAddress: r.connectionType === "DHCP" ? "aa:bb:cc:00:11:22" : null,
      billingModel: r.billingModel,
      location: r.location,
      downloadSpeedKbps: r.down,
      uploadSpeedKbps: r.up,
      activatedAt: r.status === "PENDING" || r.status === "FAILED" ? null : updatedAt,
      terminatedAt: r.status === "TERMINATED" ? updatedAt : null,
      createdAt: r.createdAt,
      updatedAt,
      version: r.version
    })
  })

/**
 * Valid stored alerts (any status) for random services and causes.
 *
 * @since 0.1.0
 */
export const arbAlert: fc.Arbitrary<ServiceAlert> = fc
  .record({
    type: fc.constantFrom<AlertType>("QUOTA_WARNING", "QUOTA_EXCEEDED", "SLA_BREACH", "PROVISIONING_FAILED"),
    severity: fc.constantFrom<AlertSeverity>("INFO", "WARNING", "ERROR", "CRITICAL"),
    status: fc.constantFrom("OPEN" as const, "ACKNOWLEDGED" as const, "RESOLVED" as const),
    threshold: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    current: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }),
    createdAt: arbInstant
  })
  .map((r) =>
    new ServiceAlert({
      id: freshId(),
      serviceId: freshId<ServiceId>(),
      customerId: unique("cust-") as CustomerId,
      poolId: null,
      type: r.type,
      severity: r.severity,
      status: r.status,
      title: r.type,
      message: `${r.type} alert`,
      cause: unique(`${r.type}:`),
      thresholdValue: r.threshold,
      currentValue: r.current,
      createdAt: r.createdAt,
      updatedAt: r.createdAt,
      acknowledgedBy: r.status === "OPEN" ? null : "noc",
      acknowledgedAt: r.status === "OPEN" ? null : r.createdAt,
      resolvedBy: r.status === "RESOLVED" ? "noc" : null,
      resolvedAt: r.status === "RESOLVED" ? r.createdAt : null,
      resolutionNotes: null
    })
  )
export * as RecordingTracer from "./RecordingTracer.js"
