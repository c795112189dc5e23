/**
 * Branded identifiers. Every entity id is a UUID string carrying a brand so that a
 * `ServiceId` can never be passed where a `PoolId` is expected.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const uuid = <B extends string>(brand: B) => Schema.UUID.pipe(Schema.brand(brand))

/** Id of a {@link ServiceTemplate}. */
export const TemplateId = uuid("TemplateId")
export type TemplateId = typeof TemplateId.Type

/** Id of a {@link CustomerService}. */
export const ServiceId = uuid("ServiceId")
export type ServiceId = typeof ServiceId.Type

/** Id of a status-history row. */
export const StatusChangeId = uuid("StatusChangeId")
export type StatusChangeId = typeof StatusChangeId.Type

/** Id of a provisioning workflow. */
export const WorkflowId = uuid("WorkflowId")
export type WorkflowId = typeof WorkflowId.Type

/** Id of an IP pool. */
export const PoolId = uuid("PoolId")
export type PoolId = typeof PoolId.Type

/** Id of an IP assignment. */
export const AssignmentId = uuid("AssignmentId")
export type AssignmentId = typeof AssignmentId.Type

/** Id of an alert. */
export const AlertId = uuid("AlertId")
export type AlertId = typeof AlertId.Type

/**
 * Customer and tariff ids belong to the ISP's CRM and billing systems; we accept any
 * non-empty string of reasonable length rather than imposing our UUIDs on them.
 */
export const CustomerId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128), Schema.brand("CustomerId"))
export type CustomerId = typeof CustomerId.Type

export const TariffId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128), Schema.brand("TariffId"))
export type TariffId = typeof TariffId.Type

/** Id of a NAS / router (the ISP's own name for it, e.g. "bng-1"). */
export const RouterId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128), Schema.brand("RouterId"))
export type RouterId = typeof RouterId.Type
