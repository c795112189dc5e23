/**
 * Filterable fields of {@link ServiceTemplate} (table `service_templates`).
 *
 * @since 0.1.0
 */
import { BillingModel, BillingPeriod, ServiceType, TemplateCategory } from "../../domain/Enums.js"
import type { ServiceTemplate } from "../../domain/ServiceTemplate.js"
import { Field, makeEntitySpec } from "../FieldSpec.js"

export const TemplateFilterSpec = makeEntitySpec<ServiceTemplate>({
  entity: "template",
  table: "service_templates",
  fields: {
    id: Field.uuid(),
    service_type: Field.enum(ServiceType.literals),
    name: Field.string(),
    display_name: Field.string(),
    tariff_id: Field.string(),
    category: Field.enum(TemplateCategory.literals),
    billing_model: Field.enum(BillingModel.literals),
    billing_period: Field.enum(BillingPeriod.literals),
    price: Field.number(),
    currency: Field.string(),
    is_active: Field.boolean(),
    is_public: Field.boolean(),
    minimum_contract_months: Field.int(),
    available_from: Field.datetime({ nullable: true }),
    available_until: Field.datetime({ nullable: true }),
    created_at: Field.datetime(),
    updated_at: Field.datetime()
  },
  defaultOrder: "created_at",
  defaultLimit: 50,
  maxLimit: 500,
  includes: []
})
