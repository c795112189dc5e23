/**
 * Filterable fields of {@link ProvisioningWorkflow} (table `provisioning_workflows`).
 *
 * @since 0.1.0
 */
import { WorkflowKind, WorkflowStatus } from "../../domain/Enums.js"
import type { ProvisioningWorkflow } from "../../domain/Workflow.js"
import { Field, makeEntitySpec } from "../FieldSpec.js"

export const WorkflowFilterSpec = makeEntitySpec<ProvisioningWorkflow>({
  entity: "workflow",
  table: "provisioning_workflows",
  fields: {
    id: Field.uuid(),
    service_id: Field.uuid(),
    customer_id: Field.string(),
    kind: Field.enum(WorkflowKind.literals),
    status: Field.enum(WorkflowStatus.literals),
    idempotency_key: Field.string({ nullable: true }),
    locked_by: Field.string({ nullable: true }),
    locked_until: Field.datetime({ nullable: true }),
    next_run_at: Field.datetime(),
    created_at: Field.datetime(),
    updated_at: Field.datetime(),
    finished_at: Field.datetime({ nullable: true })
  },
  defaultOrder: "created_at",
  defaultLimit: 50,
  maxLimit: 500,
  includes: []
})
