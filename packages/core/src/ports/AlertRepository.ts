/**
 * Persistence port for alerts. `raise` keeps at most one open (OPEN or ACKNOWLEDGED) alert per
 * (service or pool, cause): raising again updates that alert's values.
 *
 * @since 0.1.0
 */
import { Context, type DateTime, type Effect, type Option } from "effect"
import type { AlertAlreadyResolved, AlertNotFound, RaiseAlert, ServiceAlert } from "../domain/Alert.js"
import type { AlertId } from "../domain/Ids.js"
import type { FilterQuery, Page } from "../filters/Ast.js"

export interface AlertRepository {
  /** Returns the alert and whether it is new (false when an open one was updated). */
  readonly raise: (
    input: RaiseAlert,
    at: DateTime.Utc
  ) => Effect.Effect<{ readonly alert: ServiceAlert; readonly created: boolean }>
  readonly findById: (id: AlertId) => Effect.Effect<Option.Option<ServiceAlert>>
  readonly acknowledge: (
    id: AlertId,
    by: string,
    at: DateTime.Utc
  ) => Effect.Effect<ServiceAlert, AlertNotFound | AlertAlreadyResolved>
  readonly resolve: (
    id: AlertId,
    by: string,
    notes: string | null,
    at: DateTime.Utc
  ) => Effect.Effect<ServiceAlert, AlertNotFound | AlertAlreadyResolved>
  readonly search: (query: FilterQuery) => Effect.Effect<Page<ServiceAlert>>
}

export const AlertRepository = Context.GenericTag<AlertRepository>("@isp-framework/core/AlertRepository")
