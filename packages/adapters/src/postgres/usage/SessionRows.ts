/**
 * How an `accounting_sessions` row and an `AccountingSession` convert into each other on the ingest's
 * hot path: the columns the ingest locks, the segments' compact JSON, the JSON tuples of the batch
 * updates. Instances are built without the Schema constructor's field walk: every value here was
 * written by this adapter.
 *
 * @internal
 */
import { DateTime } from "effect"
import { AccountingSession, UsageBucket, UsageSegment } from "@isp-framework/core"

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

// Schema.Class instances without the per-field constructor walk (hot path; props are already valid).
const build = <C extends abstract new (props: any, options?: any) => any>(C: C, props: ConstructorParameters<C>[0]): InstanceType<C> =>
  Object.assign(Object.create(C.prototype), props)

const utc = (v: unknown): DateTime.Utc =>
  DateTime.unsafeMake(v instanceof Date ? v.getTime() : new Date(String(v)).getTime()) as DateTime.Utc
const utcOrNull = (v: unknown): DateTime.Utc | null => (v === null || v === undefined ? null : utc(v))
const millis = (v: unknown): DateTime.Utc => DateTime.unsafeMake(Math.round(Number(v))) as DateTime.Utc

/** One segment as stored: `[anchored, startFrom ms, first ms, last ms, input, output, seconds]`. */
export type SegmentJson = [anchored: 0 | 1, startFrom: number, first: number, last: number, input: string, output: string, seconds: number]

/** Segments as a JSON value (embedded in a batch document; the column holds its text). */
export const segmentsJson = (segments: ReadonlyArray<UsageSegment>): Array<SegmentJson> =>
  segments.map((s): SegmentJson => [
    s.anchored ? 1 : 0,
    s.startFrom.epochMillis,
    s.firstEventAt.epochMillis,
    s.lastEventAt.epochMillis,
    s.inputBytes.toString(),
    s.outputBytes.toString(),
    s.sessionSeconds
  ])

/** The `segments` column (text, or an already parsed value) → segments. */
export const decodeSegments = (json: unknown): ReadonlyArray<UsageSegment> => {
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

/** A full session row (camelCase keys, `SELECT *`) → AccountingSession. */
export const sessionOf = (r: Record<string, any>): AccountingSession =>
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
export const LOCK_COLUMNS = `session_id, acct_session_id, service_id, customer_id, user_name, nas_ip_address, nas_identifier,
  framed_ip_address, calling_station_id, status, close_reason, close_source, segments, version::float8 AS version,
  input_bytes::text AS input_bytes, output_bytes::text AS output_bytes, session_seconds::float8 AS session_seconds,
  (extract(epoch FROM started_at) * 1000)::float8 AS started_ms, (extract(epoch FROM last_update_at) * 1000)::float8 AS last_ms,
  (extract(epoch FROM stopped_at) * 1000)::float8 AS stopped_ms`

/** A row of {@link LOCK_COLUMNS} (raw snake_case keys) → AccountingSession. */
export const sessionOfLocked = (r: Record<string, any>): AccountingSession =>
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

/** A `usage_buckets` row (camelCase keys) → UsageBucket. */
export const bucketOf = (r: Record<string, any>): UsageBucket =>
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
export const sameIdentity = (a: AccountingSession, b: AccountingSession): boolean =>
  a.acctSessionId === b.acctSessionId && a.serviceId === b.serviceId && a.userName === b.userName &&
  a.nasIpAddress === b.nasIpAddress && a.nasIdentifier === b.nasIdentifier &&
  a.framedIpAddress === b.framedIpAddress && a.callingStationId === b.callingStationId &&
  sameMillis(a.startedAt, b.startedAt) && sameMillis(a.stoppedAt, b.stoppedAt) && a.status === b.status &&
  a.closeReason === b.closeReason && a.closeSource === b.closeSource

/** Batch-update tuple of a session whose identity did not change: `[id, last ms, in, out, seconds, segments, version]`. */
export const counterTuple = (x: AccountingSession, version: number): ReadonlyArray<unknown> => [
  x.sessionId, x.lastUpdateAt.epochMillis, x.inputBytes.toString(), x.outputBytes.toString(),
  x.sessionSeconds, segmentsJson(x.segments), version
]

/** Batch-update tuple of a whole session (19 columns, then the expected version). */
export const fullTuple = (x: AccountingSession, customerId: string | null, version: number): ReadonlyArray<unknown> => [
  x.sessionId, x.acctSessionId, x.serviceId, customerId, x.userName, x.nasIpAddress, x.nasIdentifier,
  x.framedIpAddress, x.callingStationId,
  // Epoch millis, converted by to_timestamp in SQL: toISOString per field was a top JS cost.
  x.startedAt.epochMillis, x.lastUpdateAt.epochMillis, x.stoppedAt === null ? null : x.stoppedAt.epochMillis,
  x.inputBytes.toString(), x.outputBytes.toString(), x.sessionSeconds, x.status, x.closeReason, x.closeSource,
  segmentsJson(x.segments), version
]
