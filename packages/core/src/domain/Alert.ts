/**
 * ServiceAlert — quota thresholds, SLA breaches, provisioning failures. At most one open alert
 * per (subject, cause): raising it again updates the open one instead of adding a second.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { AlertSeverity, AlertStatus, AlertType } from "./Enums.js"
import { AlertId, CustomerId, PoolId, ServiceId } from "./Ids.js"

export class ServiceAlert extends Schema.Class<ServiceAlert>("ServiceAlert")({
  id: AlertId,
  serviceId: Schema.NullOr(ServiceId),
  customerId: Schema.NullOr(CustomerId),
  poolId: Schema.NullOr(PoolId),
  type: AlertType,
  severity: AlertSeverity,
  status: AlertStatus,
  title: Schema.String,
  message: Schema.String,
  /** Deduplication key: one open alert per key (e.g. "QUOTA_WARNING:80"). */
  cause: Schema.String,
  thresholdValue: Schema.NullOr(Schema.Number),
  currentValue: Schema.NullOr(Schema.Number),
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc,
  acknowledgedBy: Schema.NullOr(Schema.String),
  acknowledgedAt: Schema.NullOr(Schema.DateTimeUtc),
  resolvedBy: Schema.NullOr(Schema.String),
  resolvedAt: Schema.NullOr(Schema.DateTimeUtc),
  resolutionNotes: Schema.NullOr(Schema.String)
}) {}

/** Input to raise an alert. */
export class RaiseAlert extends Schema.Class<RaiseAlert>("RaiseAlert")({
  serviceId: Schema.optionalWith(Schema.NullOr(ServiceId), { default: () => null }),
  customerId: Schema.optionalWith(Schema.NullOr(CustomerId), { default: () => null }),
  poolId: Schema.optionalWith(Schema.NullOr(PoolId), { default: () => null }),
  type: AlertType,
  severity: AlertSeverity,
  title: Schema.String,
  message: Schema.String,
  cause: Schema.String,
  thresholdValue: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null }),
  currentValue: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null })
}) {}

export class AlertNotFound extends Schema.TaggedError<AlertNotFound>()(
  "AlertNotFound",
  { alertId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `Alert ${this.alertId} not found`
  }
}

/** Acknowledging or resolving an alert that is already resolved. */
export class AlertAlreadyResolved extends Schema.TaggedError<AlertAlreadyResolved>()(
  "AlertAlreadyResolved",
  { alertId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `Alert ${this.alertId} is already resolved`
  }
}
