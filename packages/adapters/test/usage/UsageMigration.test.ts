/**
 * Upgrading a database with usage from before migration 0006 (DAY buckets stored as rows, segments
 * as jsonb): every hour takes the day it was counted in, the DAY buckets read back the same after the
 * upgrade, and the stored sessions keep folding.
 */
import { expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Option, Schema } from "effect"
import { BillingCycle, makeAccountingRecord, type ServiceId } from "@isp-framework/core"
import { PgliteClient } from "../../src/index.js"
import * as Migrations from "../../src/postgres/Migrations.js"
import { migrations } from "../../src/postgres/migrations/index.js"
import * as PgUsageStore from "../../src/postgres/usage/PgUsageStore.js"
import * as Reactivity from "@effect/experimental/Reactivity"

const cycle = Schema.decodeUnknownSync(BillingCycle)({ timeZone: "Europe/Berlin", period: "MONTHLY", anchorDate: "2026-01-15" })
const sid = "01900000-0000-7000-8000-00000000beef" as ServiceId
const utc = (iso: string) => DateTime.unsafeMake(iso) as DateTime.Utc

it.scoped("0006 on a database with 0005-era usage: days read back the same, sessions keep folding", () =>
  Effect.gen(function*() {
    const sql = yield* PgliteClient.make(PgliteClient.defaultTransforms)
    const before = Object.fromEntries(Object.entries(migrations).filter(([k]) => k < "0006"))
    yield* Migrations.migrateWith(before).pipe(Effect.provideService(SqlClient.SqlClient, sql))
    // What the 0005-era store wrote for a session across local midnight (Berlin, UTC+1): 40 bytes on
    // 10 March, 110 on 11 March; segments as jsonb tuples.
    yield* sql.unsafe(`
      INSERT INTO usage_buckets (service_id, granularity, period_start, period_end, bytes_in, bytes_out, session_seconds) VALUES
        ('${sid}', 'HOUR', '2026-03-10T22:00:00Z', '2026-03-10T23:00:00Z', 40, 80, 300),
        ('${sid}', 'HOUR', '2026-03-10T23:00:00Z', '2026-03-11T00:00:00Z', 110, 220, 1500),
        ('${sid}', 'DAY', '2026-03-09T23:00:00Z', '2026-03-10T23:00:00Z', 40, 80, 300),
        ('${sid}', 'DAY', '2026-03-10T23:00:00Z', '2026-03-11T23:00:00Z', 110, 220, 1500),
        ('${sid}', 'PERIOD', '2026-02-14T23:00:00Z', '2026-03-14T23:00:00Z', 150, 300, 1800)`)
    const start = Date.parse("2026-03-10T22:50:00Z")
    yield* sql.unsafe(`
      INSERT INTO accounting_sessions (session_id, acct_session_id, service_id, nas_ip_address, started_at, last_update_at,
        input_bytes, output_bytes, session_seconds, status, segments) VALUES
        ('old-1', 'old-1', '${sid}', '192.0.2.1', '2026-03-10T22:50:00Z', '2026-03-10T23:20:00Z', 150, 300, 1800, 'OPEN',
         '[[1,${start},${start},${start + 1_800_000},"150","300",1800]]'::jsonb)`)

    yield* Migrations.migrate().pipe(Effect.provideService(SqlClient.SqlClient, sql))
    const store = yield* PgUsageStore.make().pipe(Effect.provideService(SqlClient.SqlClient, sql))
    const days = yield* store.buckets(sid, "DAY", utc("2026-03-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"))
    expect(days.map((b) => [DateTime.formatIso(b.periodStart), b.bytesIn, b.bytesOut, b.sessionSeconds])).toEqual([
      ["2026-03-09T23:00:00.000Z", 40n, 80n, 300],
      ["2026-03-10T23:00:00.000Z", 110n, 220n, 1500]
    ])
    const [{ n }] = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM usage_buckets WHERE granularity = 'DAY'`) as [{ n: number }]
    expect(n).toBe(0)

    // The old row (jsonb-era segments) folds on: the next interim adds only its difference.
    yield* store.ingest([{
      record: makeAccountingRecord({
        statusType: "Interim-Update", acctSessionId: "old-1", acctUniqueSessionId: "old-1", nasIpAddress: "192.0.2.1",
        inputOctets: 200, outputOctets: 400, sessionTime: 2100, eventTime: utc("2026-03-10T23:25:00Z")
      }),
      serviceId: sid,
      cycle
    }])
    const s = Option.getOrThrow(yield* store.session("old-1"))
    expect([s.inputBytes, s.outputBytes, s.sessionSeconds]).toEqual([200n, 400n, 2100])
    const after = yield* store.buckets(sid, "DAY", utc("2026-03-10T23:00:00Z"), utc("2026-03-11T23:00:00Z"))
    expect(after.map((b) => b.bytesIn)).toEqual([160n])
  }).pipe(Effect.provide(Reactivity.layer)))
