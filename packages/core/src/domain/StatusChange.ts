/**
 * ServiceStatusChange — one history row per status change: previous, next, reason, who, how, when.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ChangeMethod, ServiceStatus, SuspensionReason } from "./Enums.js"
import { CustomerId, ServiceId, StatusChangeId } from "./Ids.js"

export class StatusChange extends Schema.Class<StatusChange>("StatusChange")({
  id: StatusChangeId,
  serviceId: ServiceId,
  customerId: CustomerId,
  /** null for the creation row. */
  previousStatus: Schema.NullOr(ServiceStatus),
  nextStatus: ServiceStatus,
  /** The lifecycle event's tag, e.g. "Suspend". */
  event: Schema.String,
  reason: Schema.NullOr(SuspensionReason),
  note: Schema.NullOr(Schema.String),
  changedBy: Schema.String,
  changeMethod: ChangeMethod,
  at: Schema.DateTimeUtc
}) {}

/** Who asked for a change, recorded on history rows. */
export class Actor extends Schema.Class<Actor>("Actor")({
  changedBy: Schema.String,
  changeMethod: ChangeMethod
}) {
  static readonly system = new Actor({ changedBy: "system", changeMethod: "AUTOMATIC" })
}
