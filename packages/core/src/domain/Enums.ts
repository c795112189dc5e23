/**
 * The domain's enumerations (see docs/domain.md). Each is a `Schema.Literal`, so it decodes from
 * JSON / query strings and rejects unknown values with a ParseError naming the allowed values.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

export const ServiceType = Schema.Literal("INTERNET", "VOICE", "BUNDLE", "RECURRING", "ADDON", "ONE_TIME")
export type ServiceType = typeof ServiceType.Type

export const ServiceStatus = Schema.Literal("PENDING", "ACTIVE", "SUSPENDED", "TERMINATED", "FAILED", "EXPIRED")
export type ServiceStatus = typeof ServiceStatus.Type

export const SuspensionReason = Schema.Literal(
  "NON_PAYMENT",
  "CUSTOMER_REQUEST",
  "TECHNICAL_ISSUE",
  "ABUSE",
  "MAINTENANCE",
  "CONTRACT_VIOLATION",
  "QUOTA_EXHAUSTED"
)
export type SuspensionReason = typeof SuspensionReason.Type

export const SuspensionType = Schema.Literal("FULL", "SPEED_LIMIT", "PARTIAL")
export type SuspensionType = typeof SuspensionType.Type

export const ConnectionType = Schema.Literal("PPPOE", "DHCP", "STATIC")
export type ConnectionType = typeof ConnectionType.Type

export const IpAssignmentType = Schema.Literal("DYNAMIC", "STATIC", "RESERVED")
export type IpAssignmentType = typeof IpAssignmentType.Type

export const BillingModel = Schema.Literal("POSTPAID", "PREPAID", "HYBRID")
export type BillingModel = typeof BillingModel.Type

export const TemplateCategory = Schema.Literal("RESIDENTIAL", "BUSINESS", "ENTERPRISE")
export type TemplateCategory = typeof TemplateCategory.Type

export const BillingPeriod = Schema.Literal("DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY")
export type BillingPeriod = typeof BillingPeriod.Type

export const WorkflowKind = Schema.Literal("ACTIVATE", "SUSPEND", "RESUME", "TERMINATE", "CHANGE_SPEED", "CHANGE_PLAN")
export type WorkflowKind = typeof WorkflowKind.Type

export const WorkflowStatus = Schema.Literal("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "COMPENSATED", "REQUIRES_MANUAL")
export type WorkflowStatus = typeof WorkflowStatus.Type

export const WorkflowStepStatus = Schema.Literal("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "COMPENSATED")
export type WorkflowStepStatus = typeof WorkflowStepStatus.Type

export const AlertType = Schema.Literal(
  "QUOTA_WARNING",
  "QUOTA_EXCEEDED",
  "FUP_APPLIED",
  "SLA_BREACH",
  "PROVISIONING_FAILED",
  "POOL_NEARLY_EXHAUSTED",
  "SESSION_DOWN",
  "DRIFT_DETECTED"
)
export type AlertType = typeof AlertType.Type

export const AlertSeverity = Schema.Literal("INFO", "WARNING", "ERROR", "CRITICAL")
export type AlertSeverity = typeof AlertSeverity.Type

export const AlertStatus = Schema.Literal("OPEN", "ACKNOWLEDGED", "RESOLVED")
export type AlertStatus = typeof AlertStatus.Type

export const ChangeMethod = Schema.Literal("MANUAL", "AUTOMATIC", "API", "BILLING", "CUSTOMER_PORTAL")
export type ChangeMethod = typeof ChangeMethod.Type

export const IpFamily = Schema.Literal(4, 6)
export type IpFamily = typeof IpFamily.Type

export const BindingType = Schema.Literal("DHCP", "PPPOE", "NONE")
export type BindingType = typeof BindingType.Type
