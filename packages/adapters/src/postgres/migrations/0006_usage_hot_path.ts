/**
 * The accounting ingest's hot path (see PgUsageStore):
 *
 * - `accounting_sessions.version`: bumped by every write of a session row. An ingester that keeps
 *   recently written sessions in memory updates them with `WHERE version = <what it wrote>` instead
 *   of locking and re-reading them first; a mismatch (another instance, a stale sweep) sends the batch
 *   back through the locking read.
 * - `segments` as text, not jsonb: it is only ever read back whole by the ingest, and jsonb's binary
 *   conversion on every write and read was a measurable share of PostgreSQL's time per record.
 * - `usage_buckets`: fillfactor 50 so that nearly every `bytes = bytes + …` update is a HOT update
 *   (no index entries), and no secondary index — the billing run's `totals` walks the primary key
 *   (service_id, granularity, period_start) in service order, which also gives it its pages. Each
 *   secondary index turned every non-HOT bucket update into two index inserts.
 * - DAY buckets are no longer stored: each HOUR row carries the local day it belongs to
 *   (`day_start`, `day_end`, from the service's billing cycle at ingest), and a DAY bucket is the sum
 *   of its hours — exactly what the stored row held, for one write per record less. Existing hours
 *   take their day from the stored DAY rows (each hour lies in exactly one), which are then dropped.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE accounting_sessions ADD COLUMN version bigint NOT NULL DEFAULT 0`
  yield* sql`ALTER TABLE accounting_sessions ALTER COLUMN segments TYPE text USING segments::text`
  yield* sql`ALTER TABLE accounting_sessions SET (fillfactor = 50)`
  yield* sql`DROP INDEX IF EXISTS usage_buckets_period_idx`
  yield* sql`ALTER TABLE usage_buckets SET (fillfactor = 50)`
  yield* sql`ALTER TABLE usage_buckets ADD COLUMN day_start timestamptz, ADD COLUMN day_end timestamptz`
  yield* sql`
    UPDATE usage_buckets AS h SET day_start = d.period_start, day_end = d.period_end
    FROM usage_buckets AS d
    WHERE h.granularity = 'HOUR' AND d.granularity = 'DAY' AND d.service_id = h.service_id
      AND h.period_start >= d.period_start AND h.period_start < d.period_end`
  yield* sql`DELETE FROM usage_buckets WHERE granularity = 'DAY'`
  yield* sql`ALTER TABLE usage_buckets ADD CONSTRAINT usage_buckets_hour_has_day
    CHECK ((granularity = 'HOUR') = (day_start IS NOT NULL AND day_end IS NOT NULL))`
})
