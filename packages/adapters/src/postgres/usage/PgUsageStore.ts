/**
 * PostgreSQL `UsageStore`: batched, durable, exactly-once under concurrent ingesters.
 *
 * One batch = one transaction of five statements, whatever its size:
 * 1. placeholder rows for the batch's session ids (`INSERT … SELECT unnest … ON CONFLICT DO NOTHING`,
 *    in id order) so that every session has a row to lock;
 * 2. `SELECT … WHERE session_id = ANY(…) ORDER BY session_id FOR UPDATE`: a second app instance
 *    ingesting the same retransmit waits here, then folds on top of the first one's state;
 * 3. the fold in JS (`foldBatch`, shared with the memory store);
 * 4. one multi-row `UPDATE … FROM unnest(…)` of the changed sessions;
 * 5. one multi-row bucket upsert, `bytes = bytes + excluded.bytes`, in key order;
 * plus one `UPDATE` per Accounting-On/Off. Locks are always taken in key order, so concurrent
 * batches never deadlock.
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

/** A PostgreSQL array literal of text values (NULL for null), for `$1::text[]` parameters. */
export const textArray = (values: ReadonlyArray<string | null>): string => {
  let out = "{"
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ","
    const v = values[i]
    out += v === null || v === undefined ? "NULL" : `"${v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"`
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

const encodeSegments = (segments: ReadonlyArray<UsageSegment>): string =>
  JSON.stringify(segments.map((s): SegmentJson => [
    s.anchored ? 1 : 0,
    s.startFrom.epochMillis,
    s.firstEventAt.epochMillis,
    s.lastEventAt.epochMillis,
    s.inputBytes.toString(),
    s.outputBytes.toString(),
    s.sessionSeconds
  ]))

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

    const ingest = (batch: ReadonlyArray<IngestItem>) =>
      Effect.gen(function*() {
        const ids = [...sessionIdsOf(batch)].sort()
        const customers = new Map<string, string | null>()
        for (const item of batch) {
          if (item.serviceId !== null) customers.set(item.serviceId, item.customerId ?? null)
        }
        const current = new Map<string, AccountingSession>()
        if (ids.length > 0) {
          const idArray = textArray(ids)
          yield* sql`
            INSERT INTO accounting_sessions (session_id)
            SELECT id FROM unnest(${idArray}::text[]) AS id ORDER BY id
            ON CONFLICT (session_id) DO NOTHING`
          const rows = yield* sql`
            SELECT * FROM accounting_sessions WHERE session_id = ANY(${idArray}::text[])
            ORDER BY session_id FOR UPDATE`
          for (const r of rows) if (r.segments !== null) current.set(r.sessionId as string, sessionOf(r))
        }
        const fold = foldBatch(current, batch, options.toleranceSeconds)
        if (fold.changed.size > 0) {
          const s = [...fold.changed.values()]
          const col = <A>(f: (x: AccountingSession) => A) => s.map(f)
          yield* sql`
            UPDATE accounting_sessions AS a SET
              acct_session_id = u.acct_session_id, service_id = u.service_id, customer_id = u.customer_id,
              user_name = u.user_name, nas_ip_address = u.nas_ip_address, nas_identifier = u.nas_identifier,
              framed_ip_address = u.framed_ip_address, calling_station_id = u.calling_station_id,
              started_at = u.started_at, last_update_at = u.last_update_at, stopped_at = u.stopped_at,
              input_bytes = u.input_bytes, output_bytes = u.output_bytes, session_seconds = u.session_seconds,
              status = u.status, close_reason = u.close_reason, close_source = u.close_source, segments = u.segments
            FROM unnest(
              ${textArray(col((x) => x.sessionId))}::text[], ${textArray(col((x) => x.acctSessionId))}::text[],
              ${textArray(col((x) => x.serviceId))}::text[],
              ${textArray(col((x) => (x.serviceId === null ? null : customers.get(x.serviceId) ?? null)))}::text[],
              ${textArray(col((x) => x.userName))}::text[], ${textArray(col((x) => x.nasIpAddress))}::text[],
              ${textArray(col((x) => x.nasIdentifier))}::text[], ${textArray(col((x) => x.framedIpAddress))}::text[],
              ${textArray(col((x) => x.callingStationId))}::text[], ${textArray(col((x) => iso(x.startedAt)))}::timestamptz[],
              ${textArray(col((x) => iso(x.lastUpdateAt)))}::timestamptz[], ${textArray(col((x) => iso(x.stoppedAt)))}::timestamptz[],
              ${textArray(col((x) => x.inputBytes.toString()))}::numeric[], ${textArray(col((x) => x.outputBytes.toString()))}::numeric[],
              ${textArray(col((x) => String(x.sessionSeconds)))}::bigint[], ${textArray(col((x) => x.status))}::text[],
              ${textArray(col((x) => x.closeReason))}::text[], ${textArray(col((x) => x.closeSource))}::text[],
              ${textArray(col((x) => encodeSegments(x.segments)))}::jsonb[]
            ) AS u(session_id, acct_session_id, service_id, customer_id, user_name, nas_ip_address, nas_identifier,
                   framed_ip_address, calling_station_id, started_at, last_update_at, stopped_at, input_bytes,
                   output_bytes, session_seconds, status, close_reason, close_source, segments)
            WHERE a.session_id = u.session_id`
        }
        if (fold.buckets.length > 0) {
          const b = [...fold.buckets].sort((x, y) =>
            x.serviceId < y.serviceId ? -1 : x.serviceId > y.serviceId ? 1 :
            x.granularity < y.granularity ? -1 : x.granularity > y.granularity ? 1 :
            x.periodStart.epochMillis - y.periodStart.epochMillis
          )
          yield* sql`
            INSERT INTO usage_buckets AS t (service_id, granularity, period_start, period_end, bytes_in, bytes_out, session_seconds)
            SELECT * FROM unnest(
              ${textArray(b.map((x) => x.serviceId))}::text[], ${textArray(b.map((x) => x.granularity))}::text[],
              ${textArray(b.map((x) => iso(x.periodStart)))}::timestamptz[], ${textArray(b.map((x) => iso(x.periodEnd)))}::timestamptz[],
              ${textArray(b.map((x) => x.bytesIn.toString()))}::numeric[], ${textArray(b.map((x) => x.bytesOut.toString()))}::numeric[],
              ${textArray(b.map((x) => String(x.sessionSeconds)))}::bigint[]
            )
            ON CONFLICT (service_id, granularity, period_start) DO UPDATE SET
              bytes_in = t.bytes_in + excluded.bytes_in,
              bytes_out = t.bytes_out + excluded.bytes_out,
              session_seconds = t.session_seconds + excluded.session_seconds`
        }
        let closedByNas = 0
        for (const ev of fold.nasEvents) closedByNas += yield* closeForNas(ev)
        return { records: fold.records, deltas: fold.deltas, closedByNas, affectedServices: affectedServicesOf(fold.deltas) }
      }).pipe(sql.withTransaction, orDieSql, Effect.withSpan("PgUsageStore.ingest", { attributes: { size: batch.length } }))

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
