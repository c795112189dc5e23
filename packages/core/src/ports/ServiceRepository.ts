/**
 * Persistence port for customer services and their status history.
 *
 * A status change and its history row are written in one call so that an adapter can make them
 * atomic (one transaction in SQL). Updates are compare-and-set on `version`: a writer that read an
 * older version gets `ConcurrentModification` instead of overwriting — this is what makes a double
 * activation impossible across processes.
 *
 * @since 0.1.0
 */
import { Context, type DateTime, type Effect, type Option, Schema } from "effect"
import { CustomerService } from "../domain/CustomerService.js"
import type { ConcurrentModification, Conflict } from "../domain/Errors.js"
import type { CustomerId, ServiceId, TemplateId } from "../domain/Ids.js"
import type { StatusChange } from "../domain/StatusChange.js"
import type { FilterQuery, Page } from "../filters/Ast.js"

/**
 * A service as JSON: exactly what `Schema.encode(CustomerService)` writes (field order, ISO
 * datetimes, `null`s), minus `pppoePassword`. The read model of service lists — what the HTTP API
 * answers — which an adapter may build straight from its storage, without `CustomerService` values.
 *
 * @since 0.1.0
 */
export type ServiceJson = Omit<Schema.Schema.Encoded<typeof CustomerService>, "pppoePassword">

const encodeService = Schema.encodeSync(CustomerService)

/** Where a service's billing cycle is anchored: activation, else contract start, else creation. */
export const cycleAnchorOf = (s: CustomerService): DateTime.Utc => s.activatedAt ?? s.contractStart ?? s.createdAt

/** A service as {@link AccountingTarget}. */
export const accountingTargetOf = (s: CustomerService): AccountingTarget => ({
  serviceId: s.id,
  customerId: s.customerId,
  templateId: s.templateId,
  pppoeUsername: s.pppoeUsername ?? "",
  anchorAt: cycleAnchorOf(s)
})

/** A live service as the accounting ingest maps sessions to it (see `findAccountingTargets`). */
export interface AccountingTarget {
  readonly serviceId: ServiceId
  readonly customerId: CustomerId
  readonly templateId: TemplateId
  readonly pppoeUsername: string
  /** Where its billing cycle is anchored: activation, else contract start, else creation. */
  readonly anchorAt: DateTime.Utc
}

/**
 * The {@link ServiceJson} of a service, by its Schema: the reference that every `searchJson` must equal.
 *
 * @since 0.1.0
 */
export const toServiceJson = (service: CustomerService): ServiceJson => {
  const { pppoePassword: _password, ...json } = encodeService(service)
  return json
}

export interface ServiceRepository {
  /** Inserts a new service with its creation history row. `Conflict` on a taken service number or PPPoE username. */
  readonly insert: (service: CustomerService, created: StatusChange) => Effect.Effect<void, Conflict>
  /**
   * Writes `next` only if the stored version is still `next.version - 1`, plus the history row if given.
   */
  readonly update: (
    next: CustomerService,
    change: StatusChange | null
  ) => Effect.Effect<void, ConcurrentModification | Conflict>
  readonly findById: (id: ServiceId) => Effect.Effect<Option.Option<CustomerService>>
  /** The live (not TERMINATED) service holding this PPPoE / RADIUS user name, if any. */
  readonly findByUsername: (username: string) => Effect.Effect<Option.Option<CustomerService>>
  /**
   * What the accounting ingest needs of the live holders of any of these user names, in no
   * particular order. One query for a whole batch, and only these fields: with interims every few
   * minutes and mappings cached for a minute, a busy ingest resolves nearly every record afresh.
   */
  readonly findAccountingTargets: (usernames: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<AccountingTarget>>
  readonly getMany: (ids: ReadonlyArray<ServiceId>) => Effect.Effect<ReadonlyArray<CustomerService>>
  readonly search: (query: FilterQuery) => Effect.Effect<Page<CustomerService>>
  /**
   * `search` as its read model: the same page (items, order, `nextCursor`) with every item as
   * {@link toServiceJson} would give it, key for key. `include` is ignored (relations are loaded by
   * the use-case). The list endpoint's hot path: no domain objects to build and encode back.
   */
  readonly searchJson: (query: FilterQuery) => Effect.Effect<Page<ServiceJson>>
  /** A fresh, unique, human-readable service number ("SVC-000042"). */
  readonly nextServiceNumber: Effect.Effect<string>
  /** Every status change of a service, oldest first. */
  readonly history: (id: ServiceId) => Effect.Effect<ReadonlyArray<StatusChange>>
  /** The history of many services in one batched lookup, ordered by (at, id): the `include=history` path. */
  readonly historyOf: (ids: ReadonlyArray<ServiceId>) => Effect.Effect<ReadonlyArray<StatusChange>>
  /** Status history search across services (filterable by service_id, customer_id, next_status, at, …). */
  readonly searchHistory: (query: FilterQuery) => Effect.Effect<Page<StatusChange>>
  readonly countByCustomer: (customerId: CustomerId) => Effect.Effect<number>
}

export const ServiceRepository = Context.GenericTag<ServiceRepository>("@isp-framework/core/ServiceRepository")
