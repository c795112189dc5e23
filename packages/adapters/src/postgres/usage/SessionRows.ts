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
import { numberArray, textArray } from "../internal/arrays.js"

export { numberArray, textArray } from "../internal/arrays.js"

// Schema.Class instances without the per-field constructor walk (hot path; props are already valid).
const build = <C extends abstract new (props: any, options?: any) => any>(C: C, props: ConstructorParameters<C>[0]): InstanceType<C> =>
  Object.setPrototypeOf(props, C.prototype)

const utc = (v: unknown): DateTime.Utc =>
  DateTime.unsafeMake(v instanceof Date ? v.getTime() : new Date(String(v)).getTime()) as DateTime.Utc
const utcOrNull = (v: unknown): DateTime.Utc | null => (v === null || v === undefined ? null : utc(v))
const millis = (v: unknown): DateTime.Utc => DateTime.unsafeMake(Math.round(Number(v))) as DateTime.Utc

/**
 * The `segments` column: one `anchored,startFrom ms,first ms,last ms,input,output,seconds` group per
 * segment, `;`-separated. No quotes, so it travels in a text[] literal unescaped, and it splits
 * faster than JSON parses. Rows written before migration 0006 hold a JSON array of the same tuples.
 */
export const encodeSegments = (segments: ReadonlyArray<UsageSegment>): string => {
  let out = ""
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (i > 0) out += ";"
    out += `${s.anchored ? 1 : 0},${s.startFrom.epochMillis},${s.firstEventAt.epochMillis},${s.lastEventAt.epochMillis},${s.inputBytes},${s.outputBytes},${s.sessionSeconds}`
  }
  return out
}

const segmentOf = (f: ReadonlyArray<string | number>): UsageSegment =>
  build(UsageSegment, {
    anchored: Number(f[0]) === 1,
    startFrom: DateTime.unsafeMake(Number(f[1])) as DateTime.Utc,
    firstEventAt: DateTime.unsafeMake(Number(f[2])) as DateTime.Utc,
    lastEventAt: DateTime.unsafeMake(Number(f[3])) as DateTime.Utc,
    inputBytes: BigInt(f[4]!),
    outputBytes: BigInt(f[5]!),
    sessionSeconds: Number(f[6])
  })

/** The `segments` column → segments (either encoding). */
export const decodeSegments = (text: string): ReadonlyArray<UsageSegment> => {
  if (text.startsWith("[")) return (JSON.parse(text) as ReadonlyArray<ReadonlyArray<string | number>>).map(segmentOf)
  if (text === "") return []
  return text.split(";").map((g) => segmentOf(g.split(",")))
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
    segments: decodeSegments(String(r.segments))
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

/**
 * Column-wise batch parameters: one PostgreSQL array literal per column, unnested together in SQL.
 * `unnest($1::text[], $2::numeric[], …)` parses 2–3× faster in PostgreSQL than the same rows as JSON
 * (measured per row: arrays 2.3 µs, jsonb 3.4 µs, json 6.7 µs), and the literals are cheap to build.
 */
export const columns = <Row>(rows: ReadonlyArray<Row>, spec: ReadonlyArray<readonly ["text" | "number", (row: Row) => string | number | bigint | null]>): Array<string> =>
  spec.map(([kind, get]) => {
    const values = rows.map(get)
    return kind === "text" ? textArray(values as ReadonlyArray<string | null>) : numberArray(values)
  })

/** The counter columns of a session whose identity did not change, then the version the update expects. */
export interface CounterRow {
  readonly session: AccountingSession
  readonly version: number
}

export const counterColumns = (rows: ReadonlyArray<CounterRow>): Array<string> =>
  columns(rows, [
    ["text", (r) => r.session.sessionId],
    ["number", (r) => r.session.lastUpdateAt.epochMillis],
    ["number", (r) => r.session.inputBytes],
    ["number", (r) => r.session.outputBytes],
    ["number", (r) => r.session.sessionSeconds],
    ["text", (r) => encodeSegments(r.session.segments)],
    ["number", (r) => r.version]
  ])

/** Every column of a session (the customer stored with it), then the version an update expects. */
export interface FullRow extends CounterRow {
  readonly customerId: string | null
}

export const fullColumns = (rows: ReadonlyArray<FullRow>): Array<string> =>
  columns(rows, [
    ["text", (r) => r.session.sessionId],
    ["text", (r) => r.session.acctSessionId],
    ["text", (r) => r.session.serviceId],
    ["text", (r) => r.customerId],
    ["text", (r) => r.session.userName],
    ["text", (r) => r.session.nasIpAddress],
    ["text", (r) => r.session.nasIdentifier],
    ["text", (r) => r.session.framedIpAddress],
    ["text", (r) => r.session.callingStationId],
    // Epoch millis, converted by to_timestamp in SQL: toISOString per field was a top JS cost.
    ["number", (r) => r.session.startedAt.epochMillis],
    ["number", (r) => r.session.lastUpdateAt.epochMillis],
    ["number", (r) => (r.session.stoppedAt === null ? null : r.session.stoppedAt.epochMillis)],
    ["number", (r) => r.session.inputBytes],
    ["number", (r) => r.session.outputBytes],
    ["number", (r) => r.session.sessionSeconds],
    ["text", (r) => r.session.status],
    ["text", (r) => r.session.closeReason],
    ["text", (r) => r.session.closeSource],
    ["text", (r) => encodeSegments(r.session.segments)],
    ["number", (r) => r.version]
  ])
