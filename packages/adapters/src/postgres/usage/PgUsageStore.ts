/**
 * PostgreSQL `UsageStore`: batched, durable, exactly-once under concurrent ingesters.
 *
 * One batch = one transaction; in the steady state (interims of sessions this instance wrote
 * before) three statements between BEGIN and COMMIT whatever the batch's size — 1, 3 and 4 below:
 * 1. key lookups only for the transaction (`set_config`): every statement touches its rows by key;
 * 2. the fold in JS (`foldBatch`, shared with the memory store) over the sessions as this instance
 *    last wrote them (`SessionCache`); sessions it does not know are locked and read first
 *    (`SELECT … FOR UPDATE`, in id order);
 * 3. multi-row `UPDATE … FROM unnest(…)` of the changed sessions, each carrying the row version it
 *    expects (a narrow one for counters only, the full one otherwise; new sessions are inserted
 *    whole); a version that moved on (another instance) reruns the batch with those rows locked;
 * 4. the bucket write (`BucketRows`): HOUR and PERIOD additions updated in key order, missing
 *    buckets inserted after;
 * plus one `UPDATE` per Accounting-On/Off. PostgreSQL's deadlock abort (40P01) is retried (the fold
 * is a function of the rows it read, so a rerun is exact). Interim updates are HOT updates
 * (migrations 0004 and 0006: no index on a column they change, fillfactor 50).
 *
 * @since 0.1.0
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Chunk, Data, DateTime, Effect, Layer, Option, Stream } from "effect"
import {
  type AccountingRecord,
  type IngestItem,
  MemoryUsageStore,
  type ServiceId,
  type ServiceTotals,
  type UsageGranularity,
  UsageStore
} from "@isp-framework/core"
import { orDieSql } from "../internal/rows.js"
import * as BucketRows from "./BucketRows.js"
import * as SessionCache from "./SessionCache.js"
import {
  bucketOf,
  columns,
  counterColumns,
  type CounterRow,
  fullColumns,
  type FullRow,
  LOCK_COLUMNS,
  sameIdentity,
  sessionOf,
  sessionOfLocked,
  textArray
} from "./SessionRows.js"

export { textArray } from "./SessionRows.js"

const { affectedServicesOf, foldBatch, sessionIdsOf } = MemoryUsageStore
type BucketAdd = MemoryUsageStore.BucketAdd

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
   * How many sessions this instance remembers as it last wrote them, so that their next interim
   * skips the locking read (see {@link SessionCache}): the last `sessionCacheSize` sessions written
   * are always held, up to twice as many at times (~1 KB each). Size it to the open sessions this
   * instance ingests; 0 turns it off. Default 100,000 (at most ~200 MB).
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
    const cache = SessionCache.make(options.sessionCacheSize ?? 100_000)

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
     * Every statement of a batch touches its rows by key. While a table is small the planner prefers
     * to hash the whole table instead of probing its primary key once per batch row, and it costs
     * more than the writes themselves (measured: 29 ms of a 63 ms 2,000-session update on a 20k-row
     * table), and it grows with the table, not the batch. Nested loops over the keys are right at any size.
     */
    const keyLookupsOnly = raw`SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`

    /**
     * Adds `adds` to their buckets, in key order (the lock order; see {@link BucketRows}). Nearly every
     * bucket exists already, so the first statement only updates — a plain UPDATE is one WAL record
     * where `INSERT … ON CONFLICT DO UPDATE` of an existing row is two — and answers with the keys it
     * updated only when it missed some (in the steady state it answers one row, the count). The missing buckets
     * are inserted with their remaining columns; one another transaction inserts in between still
     * lands in ON CONFLICT.
     */
    const writeBuckets = (adds: ReadonlyArray<BucketAdd>) =>
      Effect.gen(function*() {
        const rows = BucketRows.rowsOf(adds)
        if (rows.length === 0) return
        const keys = BucketRows.keysOf(rows)
        const [service, hour, period, inB, outB, secs] = columns(rows, [
          ["text", (r) => r.serviceId],
          ["number", (r) => r.hour?.periodStart.epochMillis ?? null],
          ["number", (r) => r.period?.periodStart.epochMillis ?? null],
          ["number", (r) => r.bytesIn],
          ["number", (r) => r.bytesOut],
          ["number", (r) => r.sessionSeconds]
        ])
        // `e` is materialized so that each of its rows is one probe of the primary key on all three
        // columns. Flattened, the planner probed by service_id alone and filtered the service's
        // buckets afterwards: every bucket the service ever had, read for every interim.
        const updated = yield* raw`
          WITH e AS MATERIALIZED (
            SELECT e.n * 2 + v.g AS k, e.service_id, v.granularity, to_timestamp(v.start_ms / 1000.0) AS period_start,
                   e.bytes_in, e.bytes_out, e.session_seconds
            FROM unnest(${service}::text[], ${hour}::float8[], ${period}::float8[], ${inB}::numeric[],
              ${outB}::numeric[], ${secs}::bigint[]) WITH ORDINALITY
              AS e(service_id, hour_ms, period_ms, bytes_in, bytes_out, session_seconds, n)
            CROSS JOIN LATERAL (VALUES (0, 'HOUR', e.hour_ms), (1, 'PERIOD', e.period_ms)) AS v(g, granularity, start_ms)
            WHERE v.start_ms IS NOT NULL),
          u AS (
            UPDATE usage_buckets AS t SET
              bytes_in = t.bytes_in + e.bytes_in, bytes_out = t.bytes_out + e.bytes_out,
              session_seconds = t.session_seconds + e.session_seconds
            FROM e
            WHERE t.service_id = e.service_id AND t.granularity = e.granularity AND t.period_start = e.period_start
            RETURNING e.k),
          c AS (SELECT count(*)::int AS n FROM u)
          SELECT c.n, u.k::int AS k FROM c LEFT JOIN u ON c.n < ${keys.length}`
        if (updated[0]?.["n"] === keys.length) return
        const found = new Set<unknown>()
        for (const r of updated) found.add(r["k"])
        const missing: Array<BucketAdd> = []
        for (const k of keys) if (!found.has(k)) missing.push(BucketRows.bucketAt(rows, k)!)
        const [service2, granularity, start, end, inB2, outB2, secs2, dayStart, dayEnd] = columns(missing, [
          ["text", (x) => x.serviceId],
          ["text", (x) => x.granularity],
          ["number", (x) => x.periodStart.epochMillis],
          ["number", (x) => x.periodEnd.epochMillis],
          ["number", (x) => x.bytesIn],
          ["number", (x) => x.bytesOut],
          ["number", (x) => x.sessionSeconds],
          ["number", (x) => x.day?.start.epochMillis ?? null],
          ["number", (x) => x.day?.end.epochMillis ?? null]
        ])
        yield* raw`
          INSERT INTO usage_buckets AS t (service_id, granularity, period_start, period_end, bytes_in, bytes_out,
            session_seconds, day_start, day_end)
          SELECT service_id, granularity, to_timestamp(start_ms / 1000.0), to_timestamp(end_ms / 1000.0), bytes_in,
            bytes_out, session_seconds, to_timestamp(day_start_ms / 1000.0), to_timestamp(day_end_ms / 1000.0)
          FROM unnest(${service2}::text[], ${granularity}::text[], ${start}::float8[], ${end}::float8[],
            ${inB2}::numeric[], ${outB2}::numeric[], ${secs2}::bigint[], ${dayStart}::float8[], ${dayEnd}::float8[])
            WITH ORDINALITY AS e(service_id, granularity, start_ms, end_ms, bytes_in, bytes_out, session_seconds,
              day_start_ms, day_end_ms, n)
          ORDER BY n
          ON CONFLICT (service_id, granularity, period_start) DO UPDATE SET
            bytes_in = t.bytes_in + excluded.bytes_in,
            bytes_out = t.bytes_out + excluded.bytes_out,
            session_seconds = t.session_seconds + excluded.session_seconds`
      })

    /**
     * One transaction: sessions from the cache (unlocked, checked by version when written) or
     * locked and read, the fold, the session updates, the bucket upsert, NAS events.
     */
    const ingestOnce = (batch: ReadonlyArray<IngestItem>, useCache: boolean) =>
      Effect.gen(function*() {
        yield* keyLookupsOnly
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
        const fold = foldBatch({ get: (id) => known.get(id)?.session }, batch, options.toleranceSeconds)
        // Interims of known sessions change only the counters: fewer columns and a narrower SET list. Every
        // update carries the version it expects (for locked rows that holds by construction); new
        // sessions are inserted, and one that a concurrent batch inserted first is a conflict too.
        const counters: Array<CounterRow> = []
        const updates: Array<FullRow> = []
        const inserts: Array<FullRow> = []
        const written: Array<SessionCache.Known> = []
        // In id order (the order rows are locked in everywhere in this store: fewer deadlocks between batches).
        for (const id of ids) {
          const x = fold.changed.get(id)
          if (x === undefined) continue
          const customerId = x.serviceId === null ? null : customers.get(x.serviceId) ?? null
          const before = known.get(x.sessionId)
          const placeholder = placeholders.get(x.sessionId)
          const version = before?.version ?? placeholder ?? 0
          if (before !== undefined && sameIdentity(before.session, x) && before.customerId === customerId) {
            counters.push({ session: x, version })
          } else if (before !== undefined || placeholder !== undefined) {
            updates.push({ session: x, version, customerId })
          } else {
            inserts.push({ session: x, version, customerId })
          }
          written.push({ session: x, version: version + 1, customerId })
        }
        const changedCached = () => [...fold.changed.keys()].filter((id) => cachedIds.has(id))
        if (counters.length > 0) {
          const [id, last, inB, outB, secs, segs, version] = counterColumns(counters)
          yield* updateChecked(
            raw`
              WITH u AS (
                UPDATE accounting_sessions AS a SET
                  last_update_at = to_timestamp(e.last_ms / 1000.0), input_bytes = e.input_bytes,
                  output_bytes = e.output_bytes, session_seconds = e.session_seconds, segments = e.segments,
                  version = a.version + 1
                FROM unnest(${id}::text[], ${last}::float8[], ${inB}::numeric[], ${outB}::numeric[], ${secs}::bigint[],
                  ${segs}::text[], ${version}::bigint[])
                  AS e(session_id, last_ms, input_bytes, output_bytes, session_seconds, segments, version)
                WHERE a.session_id = e.session_id AND a.version = e.version
                RETURNING 1)
              SELECT count(*)::int AS n FROM u`,
            counters.length,
            changedCached
          )
        }
        /** `unnest` of the 20 columns of {@link fullColumns}, as `e`. */
        const fullRows = (rows: ReadonlyArray<FullRow>) => {
          const c = fullColumns(rows)
          return raw`unnest(${c[0]}::text[], ${c[1]}::text[], ${c[2]}::text[], ${c[3]}::text[], ${c[4]}::text[],
            ${c[5]}::text[], ${c[6]}::text[], ${c[7]}::text[], ${c[8]}::text[], ${c[9]}::float8[], ${c[10]}::float8[],
            ${c[11]}::float8[], ${c[12]}::numeric[], ${c[13]}::numeric[], ${c[14]}::bigint[], ${c[15]}::text[],
            ${c[16]}::text[], ${c[17]}::text[], ${c[18]}::text[], ${c[19]}::bigint[])
            WITH ORDINALITY AS e(session_id, acct_session_id, service_id, customer_id, user_name, nas_ip_address,
              nas_identifier, framed_ip_address, calling_station_id, started_ms, last_ms, stopped_ms, input_bytes,
              output_bytes, session_seconds, status, close_reason, close_source, segments, version, n)`
        }
        if (updates.length > 0) {
          yield* updateChecked(
            raw`
              WITH u AS (
                UPDATE accounting_sessions AS a SET
                  acct_session_id = e.acct_session_id, service_id = e.service_id, customer_id = e.customer_id,
                  user_name = e.user_name, nas_ip_address = e.nas_ip_address, nas_identifier = e.nas_identifier,
                  framed_ip_address = e.framed_ip_address, calling_station_id = e.calling_station_id,
                  started_at = to_timestamp(e.started_ms / 1000.0), last_update_at = to_timestamp(e.last_ms / 1000.0),
                  stopped_at = to_timestamp(e.stopped_ms / 1000.0), input_bytes = e.input_bytes,
                  output_bytes = e.output_bytes, session_seconds = e.session_seconds, status = e.status,
                  close_reason = e.close_reason, close_source = e.close_source, segments = e.segments,
                  version = a.version + 1
                FROM ${fullRows(updates)}
                WHERE a.session_id = e.session_id AND a.version = e.version
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
                SELECT session_id, acct_session_id, service_id, customer_id, user_name, nas_ip_address, nas_identifier,
                  framed_ip_address, calling_station_id, to_timestamp(started_ms / 1000.0), to_timestamp(last_ms / 1000.0),
                  to_timestamp(stopped_ms / 1000.0), input_bytes, output_bytes, session_seconds, status, close_reason,
                  close_source, segments, 1
                FROM ${fullRows(inserts)} ORDER BY n
                ON CONFLICT (session_id) DO NOTHING
                RETURNING 1)
              SELECT count(*)::int AS n FROM u`,
            inserts.length,
            // A concurrent batch created some of them: the rerun locks and folds on its rows.
            changedCached
          )
        }
        // HOUR and PERIOD rows; a DAY bucket is the sum of the hours carrying its day (migration 0006).
        yield* writeBuckets(fold.buckets)
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

    /** The stored rows of `granularity`'s buckets starting in [from, to): DAY buckets are their hours. */
    const inRange = (granularity: UsageGranularity, from: DateTime.Utc, to: DateTime.Utc) =>
      granularity === "DAY"
        ? sql`granularity = 'HOUR' AND day_start >= ${iso(from)}::timestamptz AND day_start < ${iso(to)}::timestamptz
            AND period_start >= ${iso(from)}::timestamptz AND period_start < ${iso(to)}::timestamptz + interval '25 hours'`
        : sql`granularity = ${granularity}
            AND period_start >= ${iso(from)}::timestamptz AND period_start < ${iso(to)}::timestamptz`

    return UsageStore.of({
      ingest,
      closeStale,
      buckets: (serviceId, granularity, from, to) =>
        (granularity === "DAY"
          ? sql`
            SELECT service_id, 'DAY' AS granularity, day_start AS period_start, day_end AS period_end,
                   sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out, sum(session_seconds) AS session_seconds
            FROM usage_buckets WHERE service_id = ${serviceId} AND ${inRange(granularity, from, to)}
            GROUP BY service_id, day_start, day_end ORDER BY day_start`
          : sql`
            SELECT * FROM usage_buckets WHERE service_id = ${serviceId} AND ${inRange(granularity, from, to)}
            ORDER BY period_start`).pipe(Effect.map((rows) => rows.map(bucketOf)), orDieSql),
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
            WHERE ${inRange(granularity, from, to)}
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
