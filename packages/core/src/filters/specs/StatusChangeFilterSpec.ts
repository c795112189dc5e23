/**
 * Filterable fields of {@link StatusChange} history rows (table `service_status_changes`).
 *
 * @since 0.1.0
 */
import { ChangeMethod, ServiceStatus, SuspensionReason } from "../../domain/Enums.js"
import type { StatusChange } from "../../domain/StatusChange.js"
import { Field, makeEntitySpec } from "../FieldSpec.js"

export const StatusChangeFilterSpec = makeEntitySpec<StatusChange>({
  entity: "status_change",
  table: "service_status_changes",
  fields: {
    id: Field.uuid(),
    service_id: Field.uuid(),
    customer_id: Field.string(),
    previous_status: Field.enum(ServiceStatus.literals, { nullable: true }),
    next_status: Field.enum(ServiceStatus.literals),
    event: Field.string(),
    reason: Field.enum(SuspensionReason.literals, { nullable: true }),
    changed_by: Field.string(),
    change_method: Field.enum(ChangeMethod.literals),
    at: Field.datetime()
  },
  defaultOrder: "at",
  defaultLimit: 50,
  maxLimit: 500,
  includes: []
})
