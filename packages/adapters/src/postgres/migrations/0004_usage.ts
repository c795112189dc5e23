/**
 * Usage tracking: accounting sessions (one row per unique session id, the fold's state), usage
 * buckets (HOUR / DAY / PERIOD per service) and the radacct importer's watermarks.
 *
 * - `accounting_sessions.segments` NULL marks a placeholder row: the ingest inserts placeholders for
 *   new session ids first (ON CONFLICT DO NOTHING), then locks every session of the batch with
 *   `SELECT … FOR UPDATE`, so two app instances folding the same retransmit serialise on the row.
 * - Byte counts are numeric(20, 0): 64-bit unsigned counters do not fit bigint.
 * - `ip_assignments_live_address_idx` serves the Framed-IP-Address lookup of the ingest resolver.
 * - HOT updates: no index covers a column an interim changes, and both hot tables leave free space
 *   on each page (fillfactor), so the per-interim UPDATE / bucket upsert writes no index entries.
 * - No foreign keys to customer_services: the ingest must not take KEY SHARE locks on hot service rows.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE accounting_sessions (
      session_id text COLLATE "C" PRIMARY KEY,
      acct_session_id text COLLATE "C",
      service_id text COLLATE "C",
      customer_id text COLLATE "C",
      user_name text COLLATE "C",
      nas_ip_address text COLLATE "C",
      nas_identifier text COLLATE "C",
      framed_ip_address text COLLATE "C",
      calling_station_id text COLLATE "C",
      started_at timestamptz,
      last_update_at timestamptz,
      stopped_at timestamptz,
      input_bytes numeric(20, 0) NOT NULL DEFAULT 0,
      output_bytes numeric(20, 0) NOT NULL DEFAULT 0,
      session_seconds bigint NOT NULL DEFAULT 0,
      status text COLLATE "C",
      close_reason text,
      close_source text COLLATE "C",
      segments jsonb
    ) WITH (fillfactor = 70)`
  // No index mentions last_update_at or the counters: an interim then changes no indexed column, so its
  // UPDATE is HOT (no new index entries; fillfactor leaves room on the page). Stale sweeps scan the
  // open-session index below.
  yield* sql`CREATE INDEX accounting_sessions_service_idx ON accounting_sessions (service_id)`
  yield* sql`
    CREATE INDEX accounting_sessions_open_nas_idx ON accounting_sessions (nas_ip_address, nas_identifier)
    WHERE status = 'OPEN'`
  yield* sql`
    CREATE TABLE usage_buckets (
      service_id text COLLATE "C" NOT NULL,
      granularity text COLLATE "C" NOT NULL CHECK (granularity IN ('HOUR', 'DAY', 'PERIOD')),
      period_start timestamptz NOT NULL,
      period_end timestamptz NOT NULL,
      bytes_in numeric(24, 0) NOT NULL,
      bytes_out numeric(24, 0) NOT NULL,
      session_seconds bigint NOT NULL,
      PRIMARY KEY (service_id, granularity, period_start)
    ) WITH (fillfactor = 80)`
  yield* sql`CREATE INDEX usage_buckets_period_idx ON usage_buckets (granularity, period_start, service_id)`
  // Framed-IP-Address -> service (PgFramedIpLookup): live assignments by address.
  yield* sql`CREATE INDEX ip_assignments_live_address_idx ON ip_assignments (address) WHERE released_at IS NULL`
  yield* sql`
    CREATE TABLE radacct_import_watermarks (
      name text COLLATE "C" PRIMARY KEY,
      last_radacct_id bigint NOT NULL,
      last_update_time timestamptz
    )`
})
