/**
 * Persistence port for provisioning workflows: creation (idempotent by key), lease-based claiming
 * by any number of workers, and lease-checked saves.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Context, type Effect, type Option, Schema } from "effect"
import type { Conflict } from "../domain/Errors.js"
import type { ServiceId, WorkflowId } from "../domain/Ids.js"
import type { ProvisioningWorkflow } from "../domain/Workflow.js"
import type { FilterQuery, Page } from "../filters/Ast.js"

/** The worker's lease expired and another worker took the workflow over; the save was discarded. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()(
  "LeaseLost",
  { workflowId: Schema.String, workerId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `Worker ${this.workerId} no longer holds the lease on workflow ${this.workflowId}`
  }
}

export interface WorkflowRepository {
  /** `Conflict` when the idempotency key is already used. */
  readonly create: (workflow: ProvisioningWorkflow) => Effect.Effect<void, Conflict>
  readonly findById: (id: WorkflowId) => Effect.Effect<Option.Option<ProvisioningWorkflow>>
  readonly findByIdempotencyKey: (key: string) => Effect.Effect<Option.Option<ProvisioningWorkflow>>
  readonly listForService: (serviceId: ServiceId) => Effect.Effect<ReadonlyArray<ProvisioningWorkflow>>
  /** The most recent workflow of each service (one batched query). */
  readonly latestForServices: (ids: ReadonlyArray<ServiceId>) => Effect.Effect<ReadonlyArray<ProvisioningWorkflow>>
  /**
   * Claims up to `limit` due workflows (PENDING/RUNNING, `nextRunAt <= now`, no live lease) for
   * `workerId` until `now + leaseMillis`. Two workers never claim the same workflow at once.
   */
  readonly claimDue: (options: {
    readonly workerId: string
    readonly leaseMillis: number
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<ProvisioningWorkflow>>
  /** Persists the workflow if `workerId` still holds its lease. */
  readonly save: (workflow: ProvisioningWorkflow, workerId: string) => Effect.Effect<void, LeaseLost>
  readonly search: (query: FilterQuery) => Effect.Effect<Page<ProvisioningWorkflow>>
}

export const WorkflowRepository = Context.GenericTag<WorkflowRepository>("@isp-framework/core/WorkflowRepository")
