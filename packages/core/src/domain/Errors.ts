/**
 * Domain errors shared by several use-cases. Each is a `Schema.TaggedError` carrying the fields a
 * caller needs and its HTTP status, so the HTTP layer maps it without a lookup table.
 * Errors that belong to one model live next to it (e.g. `PoolExhausted` in IpPool.ts).
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { ServiceStatus } from "./Enums.js"

/** A service id that does not exist (or that the caller may not see). */
export class ServiceNotFound extends Schema.TaggedError<ServiceNotFound>()(
  "ServiceNotFound",
  { serviceId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `Service ${this.serviceId} not found`
  }
}

export class TemplateNotFound extends Schema.TaggedError<TemplateNotFound>()(
  "TemplateNotFound",
  { templateId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `Service template ${this.templateId} not found`
  }
}

/** The template exists but cannot be sold: inactive, outside its sale window, or not offered at the location. */
export class TemplateNotAvailable extends Schema.TaggedError<TemplateNotAvailable>()(
  "TemplateNotAvailable",
  { templateId: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `Service template ${this.templateId} is not available: ${this.reason}`
  }
}

export class WorkflowNotFound extends Schema.TaggedError<WorkflowNotFound>()(
  "WorkflowNotFound",
  { workflowId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `Workflow ${this.workflowId} not found`
  }
}

/** A lifecycle event that the service's current status does not allow. */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()(
  "InvalidTransition",
  { status: ServiceStatus, event: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `Cannot apply ${this.event} to a service in status ${this.status}`
  }
}

/**
 * Someone else changed the row between our read and our write (optimistic concurrency).
 * Retrying re-reads the current state; the transition may then be refused as invalid.
 */
export class ConcurrentModification extends Schema.TaggedError<ConcurrentModification>()(
  "ConcurrentModification",
  { entity: Schema.String, id: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `${this.entity} ${this.id} was modified concurrently; retry`
  }
}

/** Input that is well-formed JSON but violates a domain rule; `field` names the offending input. */
export class ValidationError extends Schema.TaggedError<ValidationError>()(
  "ValidationError",
  { field: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `Invalid ${this.field}: ${this.reason}`
  }
}

/** A unique value (service number, PPPoE username, idempotency key with other content) already taken. */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { field: Schema.String, value: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `${this.field} ${JSON.stringify(this.value)} is already in use`
  }
}
