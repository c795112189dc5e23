/**
 * Filterable fields of {@link ServiceAlert} (table `service_alerts`).
 *
 * @since 0.1.0
 */
import type { ServiceAlert } from "../../domain/Alert.js"
import { AlertSeverity, AlertStatus, AlertType } from "../../domain/Enums.js"
import { Field, makeEntitySpec } from "../FieldSpec.js"

export const AlertFilterSpec = makeEntitySpec<ServiceAlert>({
  entity: "alert",
  table: "service_alerts",
  fields: {
    id: Field.uuid(),
    service_id: Field.uuid({ nullable: true }),
    customer_id: Field.string({ nullable: true }),
    pool_id: Field.uuid({ nullable: true }),
    type: Field.enum(AlertType.literals),
    severity: Field.enum(AlertSeverity.literals),
    status: Field.enum(AlertStatus.literals),
    title: Field.string(),
    cause: Field.string(),
    threshold_value: Field.number({ nullable: true }),
    current_value: Field.number({ nullable: true }),
    acknowledged_by: Field.string({ nullable: true }),
    acknowledged_at: Field.datetime({ nullable: true }),
    resolved_by: Field.string({ nullable: true }),
    resolved_at: Field.datetime({ nullable: true }),
    created_at: Field.datetime(),
    updated_at: Field.datetime()
  },
  defaultOrder: "created_at",
  defaultLimit: 50,
  maxLimit: 500,
  includes: []
})
