/**
 * Filterable fields of {@link CustomerService} (table `customer_services`).
 *
 * @since 0.1.0
 */
import type { CustomerService } from "../../domain/CustomerService.js"
import { BillingModel, ConnectionType, ServiceStatus, ServiceType, SuspensionReason, SuspensionType } from "../../domain/Enums.js"
import { Field, makeEntitySpec } from "../FieldSpec.js"

/** Relations `include` may load with services. */
export const serviceIncludes = ["template", "ip_assignments", "workflow", "history"] as const

export const ServiceFilterSpec = makeEntitySpec<CustomerService>({
  entity: "service",
  table: "customer_services",
  fields: {
    id: Field.uuid(),
    service_number: Field.string(),
    customer_id: Field.string(),
    template_id: Field.uuid(),
    tariff_id: Field.string(),
    service_type: Field.enum(ServiceType.literals),
    status: Field.enum(ServiceStatus.literals),
    suspension_reason: Field.enum(SuspensionReason.literals, { nullable: true }),
    suspension_type: Field.enum(SuspensionType.literals, { nullable: true }),
    connection_type: Field.enum(ConnectionType.literals),
    pppoe_username: Field.string({ nullable: true }),
    mac_address: Field.string({ nullable: true }),
    router_id: Field.string({ nullable: true }),
    location: Field.string({ nullable: true }),
    billing_model: Field.enum(BillingModel.literals),
    download_speed_kbps: Field.int({ nullable: true }),
    upload_speed_kbps: Field.int({ nullable: true }),
    created_at: Field.datetime(),
    updated_at: Field.datetime(),
    activated_at: Field.datetime({ nullable: true }),
    suspended_at: Field.datetime({ nullable: true }),
    terminated_at: Field.datetime({ nullable: true })
  },
  defaultOrder: "created_at",
  defaultLimit: 50,
  maxLimit: 500,
  includes: serviceIncludes
})
