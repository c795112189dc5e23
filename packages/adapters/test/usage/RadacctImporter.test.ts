/**
 * FreeRADIUS radacct → usage: rows written the way rlm_sql writes them (insert on Start, update in
 * place on Interim / Stop) are imported incrementally; importing twice counts usage once, rows that
 * changed or appeared since the last run are picked up, 64-bit octets survive.
 */
import { expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Layer, Option } from "effect"
import { ServiceProvisioning, ServiceRepository, ServiceUsage, WorkflowEngine } from "@isp-framework/core"
import * as PgUsageStore from "../../src/postgres/usage/PgUsageStore.js"
import * as RadacctImporter from "../../src/radius/RadacctImporter.js"
import { pppoeRequest, setupPlan, testLayer } from "../../../core/test/workflows/fixtures.js"
import * as TestDatabase from "../support/TestDatabase.js"

const GW = 4_294_967_296n
const T0 = Date.parse("2026-03-10T10:00:00Z")
const at = (s: number) => new Date(T0 + s * 1000).toISOString()

const layer = RadacctImporter.layer({ name: "test", pageSize: 2 }).pipe(
  Layer.provideMerge(ServiceUsage.Default),
  Layer.provideMerge(PgUsageStore.layer()),
  Layer.provideMerge(testLayer()),
  Layer.provideMerge(TestDatabase.layer({ freeradius: true }))
)

it.layer(layer, { timeout: 60_000 })("RadacctImporter", (it) => {
  it.effect("imports twice → counted once; changed and new rows are picked up on the next run", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { template } = yield* setupPlan()
      const started = yield* (yield* ServiceProvisioning).provisionInternet(pppoeRequest(template.id, "radacct1"))
      yield* (yield* WorkflowEngine).drain([started.workflow.id])
      const service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(started.service.id))
      const importer = yield* RadacctImporter.RadacctImporter
      const usage = yield* ServiceUsage

      const start = (uid: string, t: number) => sql`
        INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,
                             acctsessiontime, acctinputoctets, acctoutputoctets, framedipaddress)
        VALUES (${uid}, ${uid}, 'userradacct1@isp', '192.0.2.1', ${at(t)}, ${at(t)}, 0, 0, 0, '10.20.0.5')`
      const update = (uid: string, t: number, sessionTime: number, input: bigint, output: bigint, stop = false) => sql`
        UPDATE radacct SET acctupdatetime = ${at(t)}, acctsessiontime = ${sessionTime},
          acctinputoctets = ${input.toString()}::bigint, acctoutputoctets = ${output.toString()}::bigint
          ${stop ? sql`, acctstoptime = ${at(t)}, acctterminatecause = 'User-Request'` : sql``}
        WHERE acctuniqueid = ${uid}`
      const report = () =>
        usage.usage(service.id, {
          from: DateTime.unsafeMake(T0 - 86_400_000) as DateTime.Utc,
          to: DateTime.unsafeMake(T0 + 86_400_000) as DateTime.Utc,
          granularity: "HOUR",
          now: DateTime.unsafeMake(T0 + 3_600_000) as DateTime.Utc
        })

      yield* start("ra-1", 0)
      yield* update("ra-1", 300, 300, 5n * GW + 10n, 1000n)
      yield* start("ra-2", 10)
      yield* start("ra-3", 20)
      yield* update("ra-3", 320, 300, 100n, 200n)
      const first = yield* importer.importOnce
      expect(first.rows).toBe(3)
      expect(first.pages).toBe(2) // page size 2
      const again = yield* importer.importOnce
      expect(again.rows).toBe(0)
      let r = yield* report()
      expect([r.bytesIn, r.bytesOut]).toEqual([5n * GW + 110n, 1200n])
      expect(r.openSessions).toBe(3)

      // Re-importing everything from scratch (a lost watermark) changes nothing either.
      yield* sql`DELETE FROM radacct_import_watermarks WHERE name = 'test'`
      expect((yield* importer.importOnce).rows).toBe(3)
      r = yield* report()
      expect([r.bytesIn, r.bytesOut]).toEqual([5n * GW + 110n, 1200n])

      // Interim on ra-2, Stop on ra-1, a new session: only those three rows are read.
      yield* update("ra-2", 610, 600, 7n, 8n)
      yield* update("ra-1", 620, 620, 6n * GW, 2000n, true)
      yield* start("ra-4", 630)
      const next = yield* importer.importOnce
      expect(next.rows).toBe(3)
      expect(next.watermark?.updateTime.epochMillis).toBe(T0 + 630_000)
      r = yield* report()
      expect([r.bytesIn, r.bytesOut]).toEqual([6n * GW + 107n, 2208n])
      expect(r.openSessions).toBe(3)
      const sessions = yield* usage.sessions(service.id, { status: "CLOSED" })
      expect(sessions.map((s) => [s.sessionId, s.closeReason])).toEqual([["ra-1", "User-Request"]])
      expect((yield* importer.importOnce).rows).toBe(0)
    }))
})
