/**
 * Imports FreeRADIUS's `radacct` table incrementally, for operators who keep FreeRADIUS (rlm_sql) as
 * their accounting server.
 *
 * FreeRADIUS keeps one row per session and updates it in place; every Start, Interim-Update, Stop
 * and Accounting-On/Off sets `AcctUpdateTime`. So a row that changed since the last run has
 * `(AcctUpdateTime, RadAcctId)` above the watermark stored in `radacct_import_watermarks` under the
 * importer's name. Each page (one transaction): lock the watermark row, read the next rows in
 * `(AcctUpdateTime, RadAcctId)` order, convert each to an `AccountingRecord` (the row's cumulative
 * 64-bit counters, split into octets + gigawords), fold them with `ServiceUsage.ingest`, advance the
 * watermark. Usage and watermark commit together, and the fold is idempotent on records, so a re-run,
 * a crash between pages or two importers with the same name never count a byte twice.
 *
 * Rows whose `AcctUpdateTime` lies behind the watermark when they are written (a NAS clock far
 * behind the others) would be skipped: `overlapSeconds` re-reads that much before the watermark on
 * each run (harmless thanks to the idempotent fold, but it re-reads every row updated in the window).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Context, DateTime, Effect, Layer } from "effect"
import { type AccountingRecord, type IngestResult, makeAccountingRecord, ServiceUsage } from "@isp-framework/core"
import { orDieSql } from "../postgres/internal/rows.js"

/** Options of {@link make}. */
export interface RadacctImporterOptions {
  /** Watermark name (one per radacct source). Default "radacct". */
  readonly name?: string | undefined
  /** Rows per page (= per ingest transaction). Default 1000. */
  readonly pageSize?: number | undefined
  /** Re-read this many seconds before the watermark on each run (clock-skewed NASes). Default 0. */
  readonly overlapSeconds?: number | undefined
  /** Called after each durable page (e.g. `FupEnforcer.afterIngest`); failures are logged. */
  readonly onIngested?: ((result: IngestResult) => Effect.Effect<void>) | undefined
}

/** What one {@link RadacctImporter.importOnce} run did. */
export interface ImportReport {
  /** radacct rows read (a row changed since the last run counts once per run). */
  readonly rows: number
  /** Pages (transactions). */
  readonly pages: number
  /** Non-zero usage deltas the run produced. */
  readonly deltas: number
  /** The watermark after the run (null: nothing imported yet). */
  readonly watermark: { readonly updateTime: DateTime.Utc; readonly radacctId: bigint } | null
}

export interface RadacctImporter {
  /** Imports everything changed since the last run, page by page; returns when caught up. */
  readonly importOnce: Effect.Effect<ImportReport>
}

export const RadacctImporter = Context.GenericTag<RadacctImporter>("@isp-framework/adapters/RadacctImporter")

const GW = 4_294_967_296n

const toMillis = (v: unknown): number | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.getTime() : new Date(String(v)).getTime()
const text = (v: unknown): string | null => (v === null || v === undefined || v === "" ? null : String(v))
/** `inet` values come back as "10.0.0.1" or "10.0.0.1/32" depending on the driver. */
const inet = (v: unknown): string | null => {
  const s = text(v)
  return s === null ? null : s.replace(/\/(32|128)$/, "")
}
const counter = (v: unknown): bigint => {
  if (v === null || v === undefined) return 0n
  const n = BigInt(typeof v === "number" ? Math.trunc(v) : String(v))
  return n < 0n ? 0n : n
}

/**
 * One radacct row (camelCase keys, as `@effect/sql` transforms them) → the accounting record it
 * stands for: Stop if it has a stop time, Interim-Update if it was updated after its start, else
 * Start. Counters are radacct's cumulative 64-bit octets; the event time is the stop / update time.
 */
export const recordFromRow = (row: Readonly<Record<string, unknown>>): AccountingRecord => {
  const stop = toMillis(row["acctstoptime"])
  const update = toMillis(row["acctupdatetime"])
  const start = toMillis(row["acctstarttime"])
  const statusType = stop !== null ? "Stop" : update !== null && start !== null && update > start ? "Interim-Update" : "Start"
  const event = stop ?? update ?? start ?? 0
  const input = counter(row["acctinputoctets"])
  const output = counter(row["acctoutputoctets"])
  const sessionTime = row["acctsessiontime"] === null || row["acctsessiontime"] === undefined
    ? (statusType === "Start" ? 0 : null)
    : Math.max(0, Number(row["acctsessiontime"]))
  return makeAccountingRecord({
    statusType,
    acctSessionId: String(row["acctsessionid"] ?? ""),
    acctUniqueSessionId: String(row["acctuniqueid"]),
    userName: text(row["username"]),
    nasIpAddress: inet(row["nasipaddress"]),
    nasPortId: text(row["nasportid"]),
    framedIpAddress: inet(row["framedipaddress"]),
    callingStationId: text(row["callingstationid"]),
    inputOctets: Number(input % GW),
    inputGigawords: Number(input / GW),
    outputOctets: Number(output % GW),
    outputGigawords: Number(output / GW),
    sessionTime,
    eventTime: DateTime.unsafeMake(event) as DateTime.Utc,
    terminateCause: stop === null ? null : text(row["acctterminatecause"])
  })
}

/** Builds the importer over the database holding both radacct and our tables (migration 0004). */
export const make = (
  options: RadacctImporterOptions = {}
): Effect.Effect<RadacctImporter, never, SqlClient.SqlClient | ServiceUsage> =>
  Effect.gen(function*() {
    // Unquoted column names: @effect/sql's camelCase transform leaves all-lower-case names alone.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const usage = yield* ServiceUsage
    const name = options.name ?? "radacct"
    const pageSize = options.pageSize ?? 1000
    const overlapMs = (options.overlapSeconds ?? 0) * 1000

    type Cursor = { readonly time: number; readonly id: bigint }

    /** One page in one transaction: returns the new cursor (null when caught up) and the page's result. */
    const page = (floor: Cursor | null) =>
      Effect.gen(function*() {
        yield* sql`
          INSERT INTO radacct_import_watermarks (name, last_radacct_id, last_update_time)
          VALUES (${name}, 0, NULL) ON CONFLICT (name) DO NOTHING`
        const [wm] = yield* sql`
          SELECT last_radacct_id, last_update_time FROM radacct_import_watermarks WHERE name = ${name} FOR UPDATE`
        const stored: Cursor | null = wm?.["last_update_time"] == null
          ? null
          : { time: toMillis(wm["last_update_time"])!, id: BigInt(String(wm["last_radacct_id"])) }
        const from = floor ?? (stored === null ? null : overlapMs > 0 ? { time: stored.time - overlapMs, id: 0n } : stored)
        const rows = yield* sql`
          SELECT radacctid, acctsessionid, acctuniqueid, username, nasipaddress::text AS nasipaddress, nasportid,
                 acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets,
                 callingstationid, acctterminatecause, framedipaddress::text AS framedipaddress,
                 COALESCE(acctupdatetime, acctstarttime) AS wm_time
          FROM radacct
          WHERE COALESCE(acctupdatetime, acctstarttime) IS NOT NULL
            ${from === null ? sql`` : sql`AND (COALESCE(acctupdatetime, acctstarttime), radacctid) >
              (${new Date(from.time).toISOString()}::timestamptz, ${from.id.toString()}::bigint)`}
          ORDER BY COALESCE(acctupdatetime, acctstarttime), radacctid
          LIMIT ${pageSize}`
        if (rows.length === 0) return { next: null, result: null, rows: 0 } as const
        const records = rows.map(recordFromRow)
        const result = yield* usage.ingest(records)
        const last = rows[rows.length - 1]!
        const next: Cursor = { time: toMillis(last["wm_time"])!, id: BigInt(String(last["radacctid"])) }
        // Never move the stored watermark backwards (an overlap re-read starts below it).
        if (stored === null || next.time > stored.time || (next.time === stored.time && next.id > stored.id)) {
          yield* sql`
            UPDATE radacct_import_watermarks
            SET last_radacct_id = ${next.id.toString()}::bigint, last_update_time = ${new Date(next.time).toISOString()}::timestamptz
            WHERE name = ${name}`
        }
        return { next: rows.length < pageSize ? null : next, result, rows: rows.length } as const
      }).pipe(sql.withTransaction, orDieSql)

    const readWatermark = sql`
      SELECT last_radacct_id, last_update_time FROM radacct_import_watermarks WHERE name = ${name}`.pipe(
      orDieSql,
      Effect.map(([wm]): ImportReport["watermark"] =>
        wm === undefined || wm["last_update_time"] == null
          ? null
          : {
            updateTime: DateTime.unsafeMake(toMillis(wm["last_update_time"])!) as DateTime.Utc,
            radacctId: BigInt(String(wm["last_radacct_id"]))
          })
    )

    const importOnce = Effect.gen(function*() {
      let cursor: Cursor | null = null
      let rows = 0
      let pages = 0
      let deltas = 0
      while (true) {
        const p: { readonly next: Cursor | null; readonly result: IngestResult | null; readonly rows: number } = yield* page(cursor)
        if (p.result === null) break
        pages++
        rows += p.rows
        deltas += p.result.deltas.length
        if (options.onIngested) {
          yield* options.onIngested(p.result).pipe(Effect.catchAllCause((c) => Effect.logWarning("onIngested failed", c)))
        }
        if (p.next === null) break
        cursor = p.next
      }
      return { rows, pages, deltas, watermark: yield* readWatermark } satisfies ImportReport
    }).pipe(Effect.withSpan("RadacctImporter.importOnce", { attributes: { name } }))

    return RadacctImporter.of({ importOnce })
  })

/** The importer as a layer (needs a `SqlClient` holding radacct + migration 0004, and `ServiceUsage`). */
export const layer = (
  options: RadacctImporterOptions = {}
): Layer.Layer<RadacctImporter, never, SqlClient.SqlClient | ServiceUsage> => Layer.effect(RadacctImporter, make(options))
