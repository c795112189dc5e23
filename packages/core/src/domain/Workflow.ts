/**
 * ProvisioningWorkflow — a persisted, resumable list of idempotent steps. Workers claim a due
 * workflow with a lease (`lockedBy` / `lockedUntil`); a worker that dies loses nothing because
 * another claims the workflow once the lease expires.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { WorkflowKind, WorkflowStatus, WorkflowStepStatus } from "./Enums.js"
import { CustomerId, ServiceId, WorkflowId } from "./Ids.js"

export class WorkflowStep extends Schema.Class<WorkflowStep>("WorkflowStep")({
  name: Schema.String,
  status: WorkflowStepStatus,
  attempts: Schema.Int,
  lastError: Schema.NullOr(Schema.String),
  startedAt: Schema.NullOr(Schema.DateTimeUtc),
  finishedAt: Schema.NullOr(Schema.DateTimeUtc),
  /** What the step produced (e.g. the allocated address), kept for compensation and the API. */
  output: Schema.NullOr(Schema.Unknown)
}) {}

export class ProvisioningWorkflow extends Schema.Class<ProvisioningWorkflow>("ProvisioningWorkflow")({
  id: WorkflowId,
  serviceId: ServiceId,
  customerId: CustomerId,
  kind: WorkflowKind,
  status: WorkflowStatus,
  steps: Schema.Array(WorkflowStep),
  /** The request's parameters (suspension reason/type, new speeds, …). */
  input: Schema.Unknown,
  idempotencyKey: Schema.NullOr(Schema.String),
  lockedBy: Schema.NullOr(Schema.String),
  lockedUntil: Schema.NullOr(Schema.DateTimeUtc),
  /** When the next attempt is due (backoff). */
  nextRunAt: Schema.DateTimeUtc,
  lastError: Schema.NullOr(Schema.String),
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc,
  finishedAt: Schema.NullOr(Schema.DateTimeUtc)
}) {}
