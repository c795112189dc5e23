/**
 * Ports of usage tracking: where accounting sessions and usage buckets are stored
 * ({@link UsageStore}), how a session finds its service ({@link FramedIpLookup}, used by the
 * resolver in `ServiceUsage`), and prepaid balances ({@link PrepaidBalances}).
 *
 * The store's one contract: `ingest` folds every record into its session with
 * `SessionFold.applyRecord` and adds the resulting deltas to the HOUR / DAY / PERIOD buckets of
 * the session's service, atomically per batch, so that duplicates, retransmits and any delivery
 * order — also across concurrent ingesters — give the same totals (docs/usage-model.md).
 *
 * @since 0.1.0
 */
import { Context, type DateTime, type Effect, type Option, type Stream } from "effect"
import type { ServiceId } from "../domain/Ids.js"
import type {
  AccountingRecord,
  AccountingSession,
  BillingCycle,
  UsageBucket,
  UsageDelta,
  UsageGranularity
} from "../domain/Usage.js"
import type { PrepaidBalance } from "../usage/Fup.js"

/** One record to ingest, with the service it was mapped to (null = unmapped) and that service's cycle. */
export interface IngestItem {
  readonly record: AccountingRecord
  readonly serviceId: ServiceId | null
  readonly customerId?: string | null | undefined
  /** Billing cycle of the service (for the PERIOD bucket); ignored when `serviceId` is null. */
  readonly cycle: BillingCycle
}

/** What a batch changed. */
export interface IngestResult {
  /** Records folded (session records, not NAS events). */
  readonly records: number
  /** The non-zero deltas the batch produced, in fold order. */
  readonly deltas: ReadonlyArray<UsageDelta>
  /** Sessions closed by Accounting-On/Off in this batch. */
  readonly closedByNas: number
  /** Services whose usage changed (for quota / FUP evaluation). */
  readonly affectedServices: ReadonlyArray<ServiceId>
}

/** Totals of one service over a range (bytesIn = upload, bytesOut = download). */
export interface ServiceTotals {
  readonly serviceId: ServiceId
  readonly bytesIn: bigint
  readonly bytesOut: bigint
  readonly sessionSeconds: number
}

/** Which sessions to list. */
export interface SessionQuery {
  readonly serviceId?: ServiceId | undefined
  readonly status?: "OPEN" | "CLOSED" | undefined
  /** Sessions last updated at or after this instant. */
  readonly updatedSince?: DateTime.Utc | undefined
  readonly limit?: number | undefined
}

export interface UsageStore {
  /**
   * Folds a batch durably (one transaction in SQL): sessions upserted by unique session id,
   * deltas added to buckets, Accounting-On/Off closing that NAS's open sessions. Idempotent per
   * record: ingesting the same records again changes nothing.
   */
  readonly ingest: (batch: ReadonlyArray<IngestItem>) => Effect.Effect<IngestResult>
  /** Closes OPEN sessions with no update for more than `n × intervalSeconds` before `now`. */
  readonly closeStale: (
    now: DateTime.Utc,
    intervalSeconds: number,
    n: number
  ) => Effect.Effect<ReadonlyArray<AccountingSession>>
  /** Buckets of a service with `from <= periodStart < to`, oldest first. */
  readonly buckets: (
    serviceId: ServiceId,
    granularity: UsageGranularity,
    from: DateTime.Utc,
    to: DateTime.Utc
  ) => Effect.Effect<ReadonlyArray<UsageBucket>>
  readonly session: (sessionId: string) => Effect.Effect<Option.Option<AccountingSession>>
  readonly sessions: (query: SessionQuery) => Effect.Effect<ReadonlyArray<AccountingSession>>
  /**
   * Every service's totals of the buckets of `granularity` with `from <= periodStart < to`,
   * ordered by service id, read in pages (a billing run over millions of services streams).
   */
  readonly totals: (
    granularity: UsageGranularity,
    from: DateTime.Utc,
    to: DateTime.Utc
  ) => Stream.Stream<ServiceTotals>
}

export const UsageStore = Context.GenericTag<UsageStore>("@isp-framework/core/UsageStore")

/**
 * Finds the service holding a Framed-IP-Address (a live IP assignment). The Postgres adapter reads
 * `ip_assignments`; the memory layer knows only the addresses registered with it.
 */
export interface FramedIpLookup {
  readonly byAddress: (address: string) => Effect.Effect<Option.Option<ServiceId>>
}

export const FramedIpLookup = Context.GenericTag<FramedIpLookup>("@isp-framework/core/FramedIpLookup")

/** A prepaid balance of a service, for a term that started at `since`. */
export interface PrepaidAccount extends PrepaidBalance {
  readonly serviceId: ServiceId
  /** Usage from this instant counts against the balance. */
  readonly since: DateTime.Utc
}

/** Where prepaid balances live (the billing system owns them; this port reads and tops up). */
export interface PrepaidBalances {
  readonly get: (serviceId: ServiceId) => Effect.Effect<Option.Option<PrepaidAccount>>
  readonly put: (account: PrepaidAccount) => Effect.Effect<void>
}

export const PrepaidBalances = Context.GenericTag<PrepaidBalances>("@isp-framework/core/PrepaidBalances")
