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
import { SqlClient } from "@effect/sql"
import { Chunk, DateTime, Effect, Layer, Option, Stream } from "effect"
import type { ServiceId } from "@isp-framework/core"
import { MemoryUsageStore } from "@isp-framework/core"

const { affectedServicesOf, foldBatch, sessionIdsOf } = MemoryUsageStore
import { AccountingSession, type IngestItem, type ServiceTotals, UsageBucket, UsageSegment, UsageStore } from "@isp-framework/core"
import type { AccountingRecord } from "@isp-framework/core"
import { orDieSql } from "../internal/rows.js"

/** PostgreSQL aborted the transaction to break a deadlock (40P01): safe to run the batch again. */
const isDeadlock = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError" &&
  (e as { cause?: { code?: unknown } }).cause?.code === "40P01"

const NEEDS_ESCAPE = /["\\]/

/** A PostgreSQL array literal of text values (NULL for null), for `$1::text[]` parameters. */
export const textArray = (values: ReadonlyArray<string | null>): string => {
  let out = "{"
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ","
    const v = values[i]
    // Escape only when needed: most values (ids, numbers, timestamps) have no quote or backslash.
    out += v === null || v === undefined
      ? "NULL"
      : NEEDS_ESCAPE.test(v) ? `"${v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"` : `"${v}"`
  }
  return out + "}"
}

const iso = (d: DateTime.Utc | null) => (d === null ? null : new Date(d.epochMillis).toISOString())
const utc = (v: unknown): DateTime.Utc =>
  DateTime.unsafeMake(v instanceof Date ? v.getTime() : new Date(String(v)).getTime()) as DateTime.Utc
const utcOrNull = (v: unknown): DateTime.Utc | null => (v === null || v === undefined ? null : utc(v))

// Schema.Class instances without the per-field constructor walk (hot path; props are already valid).
const build = <C extends abstract new (props: any, options?: any) => any>(C: C, props: ConstructorParameters<C>[0]): InstanceType<C> =>
  Object.assign(Object.create(C.prototype), props)

type SegmentJson = [anchored: 0 | 1, startFrom: number, first: number, last: number, input: string, output: string, seconds: number]

const segmentTuples = (segments: ReadonlyArray<UsageSegment>): Array<SegmentJson> =>
  segments.map((s): SegmentJson => [
    s.anchored ? 1 : 0,
    s.startFrom.epochMillis,
    s.firstEventAt.epochMillis,
    s.lastEventAt.epochMillis,
    s.inputBytes.toString(),
    s.outputBytes.toString(),
    s.sessionSeconds
  ])

/** Segments as a JSON value (embedded in the batch document, stored as jsonb). */
const segmentsJson = segmentTuples

const encodeSegments = (segments: ReadonlyArray<UsageSegment>): string => JSON.stringify(segmentTuples(segments))

const decodeSegments = (json: unknown): ReadonlyArray<UsageSegment> => {
  const arr = (typeof json === "string" ? JSON.parse(json) : json) as ReadonlyArray<SegmentJson>
  return arr.map((s) =>
    build(UsageSegment, {
      anchored: s[0] === 1,
      startFrom: DateTime.unsafeMake(s[1]) as DateTime.Utc,
      firstEventAt: DateTime.unsafeMake(s[2]) as DateTime.Utc,
      lastEventAt: DateTime.unsafeMake(s[3]) as DateTime.Utc,
      inputBytes: BigInt(s[4]),
      outputBytes: BigInt(s[5]),
      sessionSeconds: s[6]
    })
  )
}

/** A full session row (camelCase keys) → AccountingSession. */
const sessionOf = (r: Record<string, any>): AccountingSession =>
  build(AccountingSession, {
    sessionId: r.sessionId,
    acctSessionId: r.acctSessionId ?? "",
    serviceId: r.serviceId ?? null,
    userName: r.userName ?? null,
    nasIpAddress: r.nasIpAddress ?? null,
    nasIdentifier: r.nasIdentifier ?? null,
    framedIpAddress: r.framedIpAddress ?? null,
    callingStationId: r.callingStationId ?? null,
    startedAt: utc(r.startedAt),
    lastUpdateAt: utc(r.lastUpdateAt),
    stoppedAt: utcOrNull(r.stoppedAt),
    inputBytes: BigInt(r.inputBytes),
    outputBytes: BigInt(r.outputBytes),
    sessionSeconds: Number(r.sessionSeconds),
    status: r.status,
    closeReason: r.closeReason ?? null,
    closeSource: r.closeSource ?? null,
    segments: decodeSegments(r.segments)
  })

/** The columns the ingest locks and folds on; timestamps as epoch millis (a float parses faster than a date). */
const LOCK_COLUMNS = `session_id, acct_session_id, service_id, customer_id, user_name, nas_ip_address, nas_identifier,
  framed_ip_address, calling_station_id, status, close_reason, close_source, segments,
  input_bytes::text AS input_bytes, output_bytes::text AS output_bytes, session_seconds::float8 AS session_seconds,
  (extract(epoch FROM started_at) * 1000)::float8 AS started_ms, (extract(epoch FROM last_update_at) * 1000)::float8 AS last_ms,
  (extract(epoch FROM stopped_at) * 1000)::float8 AS stopped_ms`

const millis = (v: unknown): DateTime.Utc => DateTime.unsafeMake(Math.round(Number(v))) as DateTime.Utc

/** A row of {@link LOCK_COLUMNS} (raw snake_case keys) → AccountingSession. */
const sessionOfLocked = (r: Record<string, any>): AccountingSession =>
  build(AccountingSession, {
    sessionId: r.session_id,
    acctSessionId: r.acct_session_id ?? "",
    serviceId: r.service_id ?? null,
    userName: r.user_name ?? null,
    nasIpAddress: r.nas_ip_address ?? null,
    nasIdentifier: r.nas_identifier ?? null,
    framedIpAddress: r.framed_ip_address ?? null,
    callingStationId: r.calling_station_id ?? null,
    startedAt: millis(r.started_ms),
    lastUpdateAt: millis(r.last_ms),
    stoppedAt: r.stopped_ms === null ? null : millis(r.stopped_ms),
    inputBytes: BigInt(r.input_bytes),
    outputBytes: BigInt(r.output_bytes),
    sessionSeconds: Number(r.session_seconds),
    status: r.status,
    closeReason: r.close_reason ?? null,
    closeSource: r.close_source ?? null,
    segments: decodeSegments(r.segments)
  })

const bucketOf = (r: Record<string, any>): UsageBucket =>
  build(UsageBucket, {
    serviceId: r.serviceId,
    granularity: r.granularity,
    periodStart: utc(r.periodStart),
    periodEnd: utc(r.periodEnd),
    bytesIn: BigInt(r.bytesIn),
    bytesOut: BigInt(r.bytesOut),
    sessionSeconds: Number(r.sessionSeconds)
  })

const sameMillis = (a: DateTime.Utc | null, b: DateTime.Utc | null) =>
  a === null || b === null ? a === b : a.epochMillis === b.epochMillis

/** True when only the counters, last update and segments of a session can differ. */
const sameIdentity = (a: AccountingSession, b: AccountingSession): boolean =>
  a.acctSessionId === b.acctSessionId && a.serviceId === b.serviceId && a.userName === b.userName &&
  a.nasIpAddress === b.nasIpAddress && a.nasIdentifier === b.nasIdentifier &&
  a.framedIpAddress === b.framedIpAddress && a.callingStationId === b.callingStationId &&
  sameMillis(a.startedAt, b.startedAt) && sameMillis(a.stoppedAt, b.stoppedAt) && a.status === b.status &&
  a.closeReason === b.closeReason && a.closeSource === b.closeSource

/** Options of the Postgres store. */
export interface Options {
  readonly toleranceSeconds?: number | undefined
  /** Rows per page of `totals`. Default 1000. */
  readonly pageSize?: number | undefined
}

export const make = (options: Options = {}): Effect.Effect<UsageStore, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pageSize = options.pageSize ?? 1000

    const closeForNas = (ev: AccountingRecord) =>
      Effect.map(
        sql`
          UPDATE accounting_sessions
          SET status = 'CLOSED', stopped_at = ${iso(ev.eventTime)}::timestamptz, close_source = 'NAS_RESTART',
              close_reason = ${ev.statusType === "Accounting-On" ? "NAS-Reboot" : "NAS-Request"}
          WHERE status = 'OPEN' AND last_update_at <= ${iso(ev.eventTime)}::timestamptz
            AND ((${ev.nasIpAddress}::text IS NOT NULL AND nas_ip_address IS NOT NULL)
              OR (${ev.nasIdentifier}::text IS NOT NULL AND nas_identifier IS NOT NULL))
            AND (${ev.nasIpAddress}::text IS NULL OR nas_ip_address IS NULL OR nas_ip_address = ${ev.nasIpAddress})
            AND (${ev.nasIdentifier}::text IS NULL OR nas_identifier IS NULL OR nas_identifier = ${ev.nasIdentifier})
          RETURNING session_id`,
        (rows) => rows.length
      )

    // Ingest statements run without the camelCase row transform and select only what the fold needs:
    // per batch this is thousands of rows, and decoding them was the largest JS cost.
    const raw = sql.withoutTransforms()

    const ingest = (batch: ReadonlyArray<IngestItem>) =>
      Effect.gen(function*() {
        const ids = [...sessionIdsOf(batch)].sort()
        const customers = new Map<string, string | null>()
        for (const item of batch) {
          if (item.serviceId !== null) customers.set(item.serviceId, item.customerId ?? null)
        }
        const current = new Map<string, AccountingSession>()
        const storedCustomer = new Map<string, string | null>()
        if (ids.length > 0) {
          // Steady state (interims of known sessions): one locking read. New session ids get
          // placeholder rows first, then are locked too. Taking locks in two rounds can deadlock
          // against a concurrent batch; PostgreSQL then aborts one transaction and it is retried below.
          const lock = (list: ReadonlyArray<string>) =>
            raw`
              SELECT ${raw.unsafe(LOCK_COLUMNS)} FROM accounting_sessions WHERE session_id = ANY(${textArray(list)}::text[])
              ORDER BY session_id FOR UPDATE`
          const seen = new Set<string>()
          const take = (rows: ReadonlyArray<Record<string, unknown>>) => {
            for (const r of rows) {
              seen.add(r["session_id"] as string)
              if (r["segments"] !== null) {
                current.set(r["session_id"] as string, sessionOfLocked(r))
                storedCustomer.set(r["session_id"] as string, (r["customer_id"] as string | null) ?? null)
              }
            }
          }
          take(yield* lock(ids))
          const missing = ids.filter((id) => !seen.has(id))
          if (missing.length > 0) {
            yield* raw`
              INSERT INTO accounting_sessions (session_id)
              SELECT id FROM unnest(${textArray(missing)}::text[]) AS id ORDER BY id
              ON CONFLICT (session_id) DO NOTHING`
            take(yield* lock(missing))
          }
        }
        const fold = foldBatch(current, batch, options.toleranceSeconds)
        const updates: Array<unknown> = []
        if (fold.changed.size > 0) {
          // One JSON document for the whole batch (native JSON.stringify beats building 19 array literals).
          // Interims of known sessions change only the counters: a narrower document and SET list.
          const counters: Array<unknown> = []
          for (const x of fold.changed.values()) {
            const customerId = x.serviceId === null ? null : customers.get(x.serviceId) ?? null
            const before = current.get(x.sessionId)
            if (before !== undefined && sameIdentity(before, x) && storedCustomer.get(x.sessionId) === customerId) {
              counters.push({
                session_id: x.sessionId,
                last_ms: x.lastUpdateAt.epochMillis,
                input_bytes: x.inputBytes.toString(),
                output_bytes: x.outputBytes.toString(),
                session_seconds: x.sessionSeconds,
                segments: segmentsJson(x.segments)
              })
              continue
            }
            updates.push({
              session_id: x.sessionId,
              acct_session_id: x.acctSessionId,
              service_id: x.serviceId,
              customer_id: customerId,
              user_name: x.userName,
              nas_ip_address: x.nasIpAddress,
              nas_identifier: x.nasIdentifier,
              framed_ip_address: x.framedIpAddress,
              calling_station_id: x.callingStationId,
              // Epoch millis, converted by to_timestamp in SQL: toISOString per field was a top JS cost.
              started_ms: x.startedAt.epochMillis,
              last_ms: x.lastUpdateAt.epochMillis,
              stopped_ms: x.stoppedAt === null ? null : x.stoppedAt.epochMillis,
              input_bytes: x.inputBytes.toString(),
              output_bytes: x.outputBytes.toString(),
              session_seconds: x.sessionSeconds,
              status: x.status,
              close_reason: x.closeReason,
              close_source: x.closeSource,
              segments: segmentsJson(x.segments)
            })
          }
          if (counters.length > 0) {
            yield* raw`
              UPDATE accounting_sessions AS a SET
                last_update_at = to_timestamp(u.last_ms / 1000.0), input_bytes = u.input_bytes,
                output_bytes = u.output_bytes, session_seconds = u.session_seconds, segments = u.segments
              FROM jsonb_to_recordset(${JSON.stringify(counters)}::jsonb) AS u(
                session_id text, last_ms float8, input_bytes numeric, output_bytes numeric, session_seconds bigint, segments jsonb)
              WHERE a.session_id = u.session_id`
          }
        }
        if (fold.changed.size > 0 && updates.length > 0) {
          yield* raw`
            UPDATE accounting_sessions AS a SET
              acct_session_id = u.acct_session_id, service_id = u.service_id, customer_id = u.customer_id,
              user_name = u.user_name, nas_ip_address = u.nas_ip_address, nas_identifier = u.nas_identifier,
              framed_ip_address = u.framed_ip_address, calling_station_id = u.calling_station_id,
              started_at = to_timestamp(u.started_ms / 1000.0), last_update_at = to_timestamp(u.last_ms / 1000.0),
              stopped_at = to_timestamp(u.stopped_ms / 1000.0),
              input_bytes = u.input_bytes, output_bytes = u.output_bytes, session_seconds = u.session_seconds,
              status = u.status, close_reason = u.close_reason, close_source = u.close_source, segments = u.segments
            FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS u(
              session_id text, acct_session_id text, service_id text, customer_id text, user_name text,
              nas_ip_address text, nas_identifier text, framed_ip_address text, calling_station_id text,
              started_ms float8, last_ms float8, stopped_ms float8, input_bytes numeric, output_bytes numeric,
              session_seconds bigint, status text, close_reason text, close_source text, segments jsonb)
            WHERE a.session_id = u.session_id`
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
          yield* raw`
            INSERT INTO usage_buckets AS t (service_id, granularity, period_start, period_end, bytes_in, bytes_out, session_seconds)
            SELECT e->>0, e->>1, to_timestamp((e->>2)::float8 / 1000.0), to_timestamp((e->>3)::float8 / 1000.0),
                   (e->>4)::numeric, (e->>5)::numeric, (e->>6)::bigint
            FROM jsonb_array_elements(${json}::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n
            ON CONFLICT (service_id, granularity, period_start) DO UPDATE SET
              bytes_in = t.bytes_in + excluded.bytes_in,
              bytes_out = t.bytes_out + excluded.bytes_out,
              session_seconds = t.session_seconds + excluded.session_seconds`
        }
        let closedByNas = 0
        for (const ev of fold.nasEvents) closedByNas += yield* closeForNas(ev)
        return { records: fold.records, deltas: fold.deltas, closedByNas, affectedServices: affectedServicesOf(fold.deltas) }
      }).pipe(
        sql.withTransaction,
        Effect.retry({ while: isDeadlock, times: 5 }),
        orDieSql,
        Effect.withSpan("PgUsageStore.ingest", { attributes: { size: batch.length } })
      )

    const closeStale = (now: DateTime.Utc, intervalSeconds: number, n: number) =>
      Effect.gen(function*() {
        const cutoff = iso(DateTime.subtract(now, { seconds: intervalSeconds * n }))
        // stoppedAt = the last update: the last moment the session was known to be alive.
        const rows = yield* sql`
          UPDATE accounting_sessions SET status = 'CLOSED', stopped_at = last_update_at,
            close_source = 'STALE', close_reason = 'Stale'
          WHERE status = 'OPEN' AND last_update_at < ${cutoff}::timestamptz
          RETURNING *`
        return rows.map(sessionOf)
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
