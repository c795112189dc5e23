/**
 * PostgreSQL `UsageStore`: batched, durable, exactly-once under concurrent ingesters.
 *
 * One batch = one transaction of three statements in the steady state, whatever its size:
 * 1. `SELECT … WHERE session_id = ANY(…) ORDER BY session_id FOR UPDATE`: a second app instance
 *    ingesting the same retransmit waits here, then folds on top of the first one's state. Session
 *    ids not found get placeholder rows (`INSERT … SELECT unnest … ON CONFLICT DO NOTHING`, in id
 *    order) and are then locked the same way;
 * 2. the fold in JS (`foldBatch`, shared with the memory store);
 * 3. multi-row `UPDATE … FROM jsonb_to_recordset(…)` of the changed sessions (the batch as one
 *    JSON document: cheaper to build than 19 array literals): a narrow one (counters, last update,
 *    segments) for sessions whose other columns did not change — the steady state of interims —
 *    and the full one for the rest;
 * 4. one multi-row bucket upsert, `bytes = bytes + excluded.bytes`, in key order;
 * plus one `UPDATE` per Accounting-On/Off. Locks are taken in key order; the second locking round
 * for new sessions can still deadlock with a concurrent batch, and PostgreSQL's deadlock abort
 * (40P01) is retried (the fold is a function of the locked rows, so a rerun is exact).
 * Interim updates are HOT updates (see migration 0004: no index on a column they change).
 *
 * @since 0.1.0
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Chunk, Data, DateTime, Effect, Layer, Option, Stream } from "effect"
import {
  type AccountingRecord,
  type AccountingSession,
  type IngestItem,
  MemoryUsageStore,
  type ServiceId,
  type ServiceTotals,
  UsageStore
} from "@isp-framework/core"
import { orDieSql } from "../internal/rows.js"
import * as SessionCache from "./SessionCache.js"
import {
  bucketOf,
  counterTuple,
  fullTuple,
  LOCK_COLUMNS,
  sameIdentity,
  sessionOf,
  sessionOfLocked,
  textArray
} from "./SessionRows.js"

export { textArray } from "./SessionRows.js"

const { affectedServicesOf, foldBatch, sessionIdsOf } = MemoryUsageStore

/** PostgreSQL aborted the transaction to break a deadlock (40P01): safe to run the batch again. */
const isDeadlock = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError" &&
  (e as { cause?: { code?: unknown } }).cause?.code === "40P01"

/** A cached session's row had moved on: the transaction is rolled back and the batch rerun (internal). */
class StaleCache extends Data.TaggedError("StaleCache")<{ readonly sessionIds: ReadonlyArray<string> }> {}

const iso = (d: DateTime.Utc | null) => (d === null ? null : new Date(d.epochMillis).toISOString())

/** Options of the Postgres store. */
export interface Options {
  readonly toleranceSeconds?: number | undefined
  /** Rows per page of `totals`. Default 1000. */
  readonly pageSize?: number | undefined
  /**
   * How many sessions this instance remembers as it last wrote them (LRU), so that their next
   * interim skips the locking read (see {@link SessionCache}). Size it to the open sessions this
   * instance ingests (~1 KB each); 0 turns it off. Default 200,000.
   */
  readonly sessionCacheSize?: number | undefined
}

export const make = (options: Options = {}): Effect.Effect<UsageStore, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pageSize = options.pageSize ?? 1000

    const closeForNas = (ev: AccountingRecord) =>
      Effect.map(
        sql`
          UPDATE accounting_sessions
          SET status = 'CLOSED', stopped_at = ${iso(ev.eventTime)}::timestamptz, close_source = 'NAS_RESTART', version = version + 1,
              close_reason = ${ev.statusType === "Accounting-On" ? "NAS-Reboot" : "NAS-Request"}
          WHERE status = 'OPEN' AND last_update_at <= ${iso(ev.eventTime)}::timestamptz
            AND ((${ev.nasIpAddress}::text IS NOT NULL AND nas_ip_address IS NOT NULL)
              OR (${ev.nasIdentifier}::text IS NOT NULL AND nas_identifier IS NOT NULL))
            AND (${ev.nasIpAddress}::text IS NULL OR nas_ip_address IS NULL OR nas_ip_address = ${ev.nasIpAddress})
            AND (${ev.nasIdentifier}::text IS NULL OR nas_identifier IS NULL OR nas_identifier = ${ev.nasIdentifier})
          RETURNING session_id`,
        (rows) => rows.map((r) => r["sessionId"] as string)
      )

    // Ingest statements run without the camelCase row transform and select only what the fold needs:
    // per batch this is thousands of rows, and decoding them was the largest JS cost.
    const raw = sql.withoutTransforms()
    const cache = SessionCache.make(options.sessionCacheSize ?? 200_000)

    /**
     * Locks (and reads) the stored sessions among `ids`, in id order. Rows without segments are
     * placeholders an earlier version of this store inserted: an empty state at that row version.
     */
    const lockSessions = (ids: ReadonlyArray<string>, into: Map<string, SessionCache.Known>, placeholders: Map<string, number>) =>
      Effect.map(
        raw`
          SELECT ${raw.unsafe(LOCK_COLUMNS)} FROM accounting_sessions WHERE session_id = ANY(${textArray(ids)}::text[])
          ORDER BY session_id FOR UPDATE`,
        (rows) => {
          for (const r of rows) {
            const id = r["session_id"] as string
            if (r["segments"] === null) placeholders.set(id, r["version"] as number)
            else {
              into.set(id, {
                session: sessionOfLocked(r),
                version: r["version"] as number,
                customerId: (r["customer_id"] as string | null) ?? null
              })
            }
          }
        }
      )

    /** Runs a version-checked batch update; fails with StaleCache when a row's version had moved on. */
    const updateChecked = (
      statement: Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError.SqlError>,
      expected: number,
      ids: () => ReadonlyArray<string>
    ) =>
      Effect.flatMap(statement, (rows) => {
        const n = rows[0]?.["n"] as number
        return n === expected ? Effect.void : Effect.fail(new StaleCache({ sessionIds: ids() }))
      })

    /**
     * One transaction: sessions from the cache (unlocked, checked by version when written) or
     * locked and read, the fold, the session updates, the bucket upsert, NAS events.
     */
    const ingestOnce = (batch: ReadonlyArray<IngestItem>, useCache: boolean) =>
      Effect.gen(function*() {
        const ids = [...sessionIdsOf(batch)].sort()
        const customers = new Map<string, string | null>()
        for (const item of batch) {
          if (item.serviceId !== null) customers.set(item.serviceId, item.customerId ?? null)
        }
        const known = new Map<string, SessionCache.Known>()
        const placeholders = new Map<string, number>()
        const cachedIds = new Set<string>()
        const toLock: Array<string> = []
        for (const id of ids) {
          const hit = useCache ? cache.get(id) : undefined
          if (hit === undefined) toLock.push(id)
          else {
            known.set(id, hit)
            cachedIds.add(id)
          }
        }
        if (toLock.length > 0) yield* lockSessions(toLock, known, placeholders)
        const current = new Map<string, AccountingSession>()
        for (const [id, k] of known) current.set(id, k.session)

        const fold = foldBatch(current, batch, options.toleranceSeconds)
        // Interims of known sessions change only the counters: a narrower tuple and SET list. Every
        // update carries the version it expects (for locked rows that holds by construction); new
        // sessions are inserted, and one that a concurrent batch inserted first is a conflict too.
        const counters: Array<ReadonlyArray<unknown>> = []
        const updates: Array<ReadonlyArray<unknown>> = []
        const inserts: Array<ReadonlyArray<unknown>> = []
        const written: Array<SessionCache.Known> = []
        for (const x of fold.changed.values()) {
          const customerId = x.serviceId === null ? null : customers.get(x.serviceId) ?? null
          const before = known.get(x.sessionId)
          const placeholder = placeholders.get(x.sessionId)
          const version = before?.version ?? placeholder ?? 0
          if (before !== undefined && sameIdentity(before.session, x) && before.customerId === customerId) {
            counters.push(counterTuple(x, version))
          } else if (before !== undefined || placeholder !== undefined) {
            updates.push(fullTuple(x, customerId, version))
          } else {
            inserts.push(fullTuple(x, customerId, version))
          }
          written.push({ session: x, version: version + 1, customerId })
        }
        // Rows are locked in id order, as everywhere in this store (fewer deadlocks between batches).
        const byId = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>) => ((a[0] as string) < (b[0] as string) ? -1 : 1)
        counters.sort(byId)
        updates.sort(byId)
        inserts.sort(byId)
        const changedCached = () => [...fold.changed.keys()].filter((id) => cachedIds.has(id))
        if (counters.length > 0) {
          yield* updateChecked(
            raw`
              WITH u AS (
                UPDATE accounting_sessions AS a SET
                  last_update_at = to_timestamp((e->>1)::float8 / 1000.0), input_bytes = (e->>2)::numeric,
                  output_bytes = (e->>3)::numeric, session_seconds = (e->>4)::bigint, segments = (e->5)::text,
                  version = a.version + 1
                FROM json_array_elements(${JSON.stringify(counters)}::json) AS e
                WHERE a.session_id = e->>0 AND a.version = (e->>6)::bigint
                RETURNING 1)
              SELECT count(*)::int AS n FROM u`,
            counters.length,
            changedCached
          )
        }
        if (updates.length > 0) {
          yield* updateChecked(
            raw`
              WITH u AS (
                UPDATE accounting_sessions AS a SET
                  acct_session_id = e->>1, service_id = e->>2, customer_id = e->>3, user_name = e->>4,
                  nas_ip_address = e->>5, nas_identifier = e->>6, framed_ip_address = e->>7, calling_station_id = e->>8,
                  started_at = to_timestamp((e->>9)::float8 / 1000.0), last_update_at = to_timestamp((e->>10)::float8 / 1000.0),
                  stopped_at = to_timestamp((e->>11)::float8 / 1000.0),
                  input_bytes = (e->>12)::numeric, output_bytes = (e->>13)::numeric, session_seconds = (e->>14)::bigint,
                  status = e->>15, close_reason = e->>16, close_source = e->>17, segments = (e->18)::text,
                  version = a.version + 1
                FROM json_array_elements(${JSON.stringify(updates)}::json) AS e
                WHERE a.session_id = e->>0 AND a.version = (e->>19)::bigint
                RETURNING 1)
              SELECT count(*)::int AS n FROM u`,
            updates.length,
            changedCached
          )
        }
        if (inserts.length > 0) {
          yield* updateChecked(
            raw`
              WITH u AS (
                INSERT INTO accounting_sessions (session_id, acct_session_id, service_id, customer_id, user_name,
                  nas_ip_address, nas_identifier, framed_ip_address, calling_station_id, started_at, last_update_at,
                  stopped_at, input_bytes, output_bytes, session_seconds, status, close_reason, close_source, segments, version)
                SELECT e->>0, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, e->>8,
                  to_timestamp((e->>9)::float8 / 1000.0), to_timestamp((e->>10)::float8 / 1000.0),
                  to_timestamp((e->>11)::float8 / 1000.0), (e->>12)::numeric, (e->>13)::numeric, (e->>14)::bigint,
                  e->>15, e->>16, e->>17, (e->18)::text, 1
                FROM json_array_elements(${JSON.stringify(inserts)}::json) WITH ORDINALITY AS j(e, n) ORDER BY n
                ON CONFLICT (session_id) DO NOTHING
                RETURNING 1)
              SELECT count(*)::int AS n FROM u`,
            inserts.length,
            // A concurrent batch created some of them: the rerun locks and folds on its rows.
            changedCached
          )
        }
        if (fold.buckets.length > 0) {
          const b = [...fold.buckets].sort((x, y) =>
            x.serviceId < y.serviceId ? -1 : x.serviceId > y.serviceId ? 1 :
            x.granularity < y.granularity ? -1 : x.granularity > y.granularity ? 1 :
            x.periodStart.epochMillis - y.periodStart.epochMillis
          )
          // JSON tuples [service, granularity, start ms, end ms, in, out, seconds], in key order (the lock order).
          const json = JSON.stringify(b.map((x) => [
            x.serviceId, x.granularity, x.periodStart.epochMillis, x.periodEnd.epochMillis,
            x.bytesIn.toString(), x.bytesOut.toString(), x.sessionSeconds
          ]))
          // Update the buckets that exist, insert the rest: an `INSERT … ON CONFLICT DO UPDATE` of an
          // existing row locks it and then updates it (two WAL records and ~5 buffer visits per row,
          // against one record and ~2 for a plain UPDATE), and nearly every bucket exists already.
          // A bucket another transaction inserts meanwhile still lands in ON CONFLICT.
          yield* raw`
            WITH e AS MATERIALIZED (
              SELECT n, e->>0 AS service_id, e->>1 AS granularity, to_timestamp((e->>2)::float8 / 1000.0) AS period_start,
                     to_timestamp((e->>3)::float8 / 1000.0) AS period_end, (e->>4)::numeric AS bytes_in,
                     (e->>5)::numeric AS bytes_out, (e->>6)::bigint AS session_seconds
              FROM json_array_elements(${json}::json) WITH ORDINALITY AS j(e, n)),
            u AS (
              UPDATE usage_buckets AS t SET
                bytes_in = t.bytes_in + e.bytes_in, bytes_out = t.bytes_out + e.bytes_out,
                session_seconds = t.session_seconds + e.session_seconds
              FROM e
              WHERE t.service_id = e.service_id AND t.granularity = e.granularity AND t.period_start = e.period_start
              RETURNING e.n)
            INSERT INTO usage_buckets AS t (service_id, granularity, period_start, period_end, bytes_in, bytes_out, session_seconds)
            SELECT service_id, granularity, period_start, period_end, bytes_in, bytes_out, session_seconds
            FROM e WHERE n NOT IN (SELECT n FROM u) ORDER BY n
            ON CONFLICT (service_id, granularity, period_start) DO UPDATE SET
              bytes_in = t.bytes_in + excluded.bytes_in,
              bytes_out = t.bytes_out + excluded.bytes_out,
              session_seconds = t.session_seconds + excluded.session_seconds`
        }
        const closed: Array<string> = []
        for (const ev of fold.nasEvents) closed.push(...(yield* closeForNas(ev)))
        const result = { records: fold.records, deltas: fold.deltas, closedByNas: closed.length, affectedServices: affectedServicesOf(fold.deltas) }
        return { result, written, closed }
      }).pipe(sql.withTransaction)

    /**
     * Runs the batch until it commits without a conflict. A cached session had moved on, or a new
     * session was created by a concurrent batch: forget the batch's cached sessions and rerun with
     * them locked; from the third try on, without the cache at all (a hot session raced by another
     * instance). Each rerun starts from the rolled-back state, so it is exact.
     */
    const ingestFresh = (
      batch: ReadonlyArray<IngestItem>,
      tries: number
    ): Effect.Effect<Effect.Effect.Success<ReturnType<typeof ingestOnce>>, SqlError.SqlError> =>
      ingestOnce(batch, tries < 2).pipe(
        Effect.catchTag("StaleCache", (e) => {
          for (const id of e.sessionIds) cache.delete(id)
          return tries >= 20 ? Effect.die(e) : ingestFresh(batch, tries + 1)
        })
      )

    const ingest = (batch: ReadonlyArray<IngestItem>) =>
      ingestFresh(batch, 0).pipe(
        Effect.retry({ while: isDeadlock, times: 5 }),
        // Only committed states enter the cache.
        Effect.map(({ closed, result, written }) => {
          for (const k of written) cache.set(k)
          // Closed by Accounting-On/Off: their versions moved on, a cached copy would only cost a rerun.
          for (const id of closed) cache.delete(id)
          return result
        }),
        orDieSql,
        Effect.withSpan("PgUsageStore.ingest", { attributes: { size: batch.length } })
      )

    const closeStale = (now: DateTime.Utc, intervalSeconds: number, n: number) =>
      Effect.gen(function*() {
        const cutoff = iso(DateTime.subtract(now, { seconds: intervalSeconds * n }))
        // stoppedAt = the last update: the last moment the session was known to be alive.
        const rows = yield* sql`
          UPDATE accounting_sessions SET status = 'CLOSED', stopped_at = last_update_at,
            close_source = 'STALE', close_reason = 'Stale', version = version + 1
          WHERE status = 'OPEN' AND last_update_at < ${cutoff}::timestamptz
          RETURNING *`
        const closed = rows.map(sessionOf)
        for (const s of closed) cache.delete(s.sessionId)
        return closed
      }).pipe(orDieSql)

    return UsageStore.of({
      ingest,
      closeStale,
      buckets: (serviceId, granularity, from, to) =>
        sql`
          SELECT * FROM usage_buckets
          WHERE service_id = ${serviceId} AND granularity = ${granularity}
            AND period_start >= ${iso(from)}::timestamptz AND period_start < ${iso(to)}::timestamptz
          ORDER BY period_start`.pipe(Effect.map((rows) => rows.map(bucketOf)), orDieSql),
      session: (id) =>
        sql`SELECT * FROM accounting_sessions WHERE session_id = ${id} AND segments IS NOT NULL`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]).pipe(Option.map(sessionOf))),
          orDieSql
        ),
      sessions: (q) =>
        sql`
          SELECT * FROM accounting_sessions
          WHERE segments IS NOT NULL
            ${q.serviceId === undefined ? sql`` : sql`AND service_id = ${q.serviceId}`}
            ${q.status === undefined ? sql`` : sql`AND status = ${q.status}`}
            ${q.updatedSince === undefined ? sql`` : sql`AND last_update_at >= ${iso(q.updatedSince)}::timestamptz`}
          ORDER BY last_update_at DESC
          LIMIT ${q.limit ?? 1000}`.pipe(Effect.map((rows) => rows.map(sessionOf)), orDieSql),
      totals: (granularity, from, to) =>
        Stream.paginateChunkEffect(null as string | null, (after) =>
          sql`
            SELECT service_id, sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out,
                   sum(session_seconds) AS session_seconds
            FROM usage_buckets
            WHERE granularity = ${granularity}
              AND period_start >= ${iso(from)}::timestamptz AND period_start < ${iso(to)}::timestamptz
              ${after === null ? sql`` : sql`AND service_id > ${after}`}
            GROUP BY service_id ORDER BY service_id LIMIT ${pageSize}`.pipe(
            orDieSql,
            Effect.map((rows) => {
              const items: Array<ServiceTotals> = rows.map((r) => ({
                serviceId: r.serviceId as ServiceId,
                bytesIn: BigInt(r.bytesIn as string),
                bytesOut: BigInt(r.bytesOut as string),
                sessionSeconds: Number(r.sessionSeconds)
              }))
              const next = rows.length < pageSize ? Option.none<string | null>() : Option.some(items[items.length - 1]!.serviceId as string)
              return [Chunk.unsafeFromArray(items), next] as const
            })
          ))
    })
  })

/** The Postgres usage store (needs a migrated `SqlClient`). */
export const layer = (options: Options = {}): Layer.Layer<UsageStore, never, SqlClient.SqlClient> =>
  Layer.effect(UsageStore, make(options))
