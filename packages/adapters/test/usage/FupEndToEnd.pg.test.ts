/**
 * Smart FUP against the real edges: radclient sends accounting to our AccountingServer (wired by
 * UsageRuntime to FupEnforcer); crossing the tier threshold sends a CoA with the tier's rate to the
 * UDP NAS stub (real CoA client), changes the queue on the RouterOS API test server (real
 * node-routeros provisioner) and raises FUP_APPLIED; the next billing period restores plan speed.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  CreateTemplate,
  FupEnforcer,
  IpAllocator,
  ServiceAlerts,
  ServiceCatalog,
  type ServiceId,
  ServiceProvisioning,
  ServiceRepository,
  ServiceUsage,
  WorkflowEngine
} from "@isp-framework/core"
import { DateTime, Effect, Layer, Option, Schedule, Schema } from "effect"
import * as UsageRuntime from "../../src/layers/UsageRuntime.js"
import * as PgFramedIpLookup from "../../src/postgres/usage/PgFramedIpLookup.js"
import * as PgUsageStore from "../../src/postgres/usage/PgUsageStore.js"
import * as NasStub from "../support/NasStub.js"
import { RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import { finish, pppoeRequest, realPostgres, routerRows, stack } from "../provisioning/support.js"
import { radclientAcct } from "./radclient.js"

const ACCT_SECRET = "acct-secret-e2e"
const GB = 1_000_000_000
const GW = 4_294_967_296

const Usage = UsageRuntime.layer({
  sweep: Schedule.spaced("1 hour"), // the test drives tick itself
  accounting: { port: 0, secretFor: (a) => (a === "127.0.0.1" ? ACCT_SECRET : undefined), batchSize: 100 }
}).pipe(
  Layer.provideMerge(FupEnforcer.Default),
  Layer.provideMerge(Layer.mergeAll(ServiceUsage.Default, ServiceAlerts.Default)),
  Layer.provideMerge(Layer.mergeAll(PgUsageStore.layer(), PgFramedIpLookup.layer)),
  Layer.provideMerge(stack())
)

const drainAll = (serviceId: ServiceId) =>
  Effect.gen(function*() {
    const wfs = yield* (yield* ServiceProvisioning).workflowsFor(serviceId)
    const open = wfs.filter((w) => w.status === "PENDING" || w.status === "RUNNING").map((w) => w.id)
    yield* (yield* WorkflowEngine).drain(open, { pollInterval: "20 millis" })
  })

/** Octets + Gigawords of a byte count. */
const split = (bytes: number, name: "Input" | "Output") =>
  [[`Acct-${name}-Octets`, bytes % GW], [`Acct-${name}-Gigawords`, Math.floor(bytes / GW)]] as const

describe.skipIf(!realPostgres)("Smart FUP end to end (PostgreSQL + RouterOS + NAS + radclient)", () => {
  layer(Usage, { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("threshold crossed → CoA with the tier rate, queue change, FUP_APPLIED; next period → plan speed", () =>
      Effect.gen(function*() {
        const ips = yield* IpAllocator
        const pool = yield* ips.createPool({ name: `fup-${Date.now()}`, cidr: "10.41.0.0/24", gateway: null, quarantineSeconds: 300 })
        const template = yield* (yield* ServiceCatalog).create(Schema.decodeUnknownSync(CreateTemplate)({
          serviceType: "INTERNET",
          name: `fup-${Math.random().toString(36).slice(2, 8)}`,
          displayName: "FUP 10",
          tariffId: "tariff-fup",
          internet: {
            downloadSpeedKbps: 10_000,
            uploadSpeedKbps: 2_000,
            ipPoolId: pool.id,
            monthlyDataLimitBytes: String(10 * GB),
            fup: { tiers: [{ thresholdBytes: String(5 * GB), downloadKbps: 2_000, uploadKbps: 1_000 }] }
          }
        }))
        const started = yield* (yield* ServiceProvisioning).provisionInternet(pppoeRequest(template.id, "fup"))
        expect((yield* finish(started)).status).toBe("SUCCEEDED")
        const serviceId = started.service.id
        const router = yield* RouterOsTestServerTag
        const nas = yield* NasStub.NasStubService
        yield* nas.respondWith(NasStub.ack)
        yield* nas.clear
        expect(routerRows(router, serviceId).queues[0]).toMatchObject({ "max-limit": "2000000/10000000" })

        const runtime = yield* UsageRuntime.UsageRuntime
        const port = runtime.accountingServer!.port
        const now = Math.floor(Date.now() / 1000)
        const base = [["User-Name", "userfup@isp.net"], ["Acct-Session-Id", "fup-e2e-1"], ["NAS-IP-Address", "127.0.0.1"]] as const
        const send = (attrs: ReadonlyArray<readonly [string, string | number]>) => radclientAcct(port, ACCT_SECRET, [...base, ...attrs])

        expect((yield* send([["Acct-Status-Type", "Start"], ["Event-Timestamp", now - 120], ["Acct-Session-Time", 0]])).code).toBe(0)
        // 4 GB: below the 5 GB tier, nothing happens.
        expect((yield* send([["Acct-Status-Type", "Interim-Update"], ["Event-Timestamp", now - 60], ["Acct-Session-Time", 60],
          ...split(0.4 * GB, "Input"), ...split(3.6 * GB, "Output")])).code).toBe(0)
        // 8.5 GB: tier 1.
        expect((yield* send([["Acct-Status-Type", "Interim-Update"], ["Event-Timestamp", now], ["Acct-Session-Time", 120],
          ...split(0.85 * GB, "Input"), ...split(7.65 * GB, "Output")])).code).toBe(0)

        // onIngested runs after the Accounting-Response: wait for its alert.
        const alerts = yield* ServiceAlerts
        const fupAlert = yield* alerts.search({ service_id: serviceId, type: "FUP_APPLIED", status: "OPEN" }).pipe(
          Effect.flatMap((p) => p.items.length === 1 ? Effect.succeed(p.items[0]!) : Effect.fail("not yet" as const)),
          Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("10 seconds")))
        )
        expect(fupAlert.title).toMatch(/2000\/1000/)
        const quota = yield* alerts.search({ service_id: serviceId, type: "QUOTA_WARNING" })
        expect(quota.items.map((a) => a.cause)).toEqual(["QUOTA_WARNING:80"])
        yield* drainAll(serviceId)

        const coas = (yield* nas.requests).filter((r) => r.kind === "CoA")
        expect(coas).toHaveLength(1)
        expect(coas[0]!.attributes["User-Name"]).toBe("userfup@isp.net")
        expect(coas[0]!.vendor["Mikrotik-Rate-Limit"]).toBe("1000k/2000k")
        expect(coas[0]!.authentic).toBe(true)
        expect(routerRows(router, serviceId).queues).toHaveLength(1)
        expect(routerRows(router, serviceId).queues[0]).toMatchObject({ "max-limit": "1000000/2000000" })
        let service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(serviceId))
        expect([service.downloadSpeedKbps, service.uploadSpeedKbps]).toEqual([2_000, 1_000])

        // The next billing period: plan speed restored (CoA + queue), FUP_APPLIED resolved.
        const nextPeriod = DateTime.add(DateTime.unsafeMake(now * 1000) as DateTime.Utc, { months: 1, days: 1 })
        const [restored] = yield* (yield* FupEnforcer).tick(nextPeriod)
        expect(restored?.speedChanged).toBe(true)
        expect(restored?.fup?.tierIndex).toBeNull()
        yield* drainAll(serviceId)
        const coas2 = (yield* nas.requests).filter((r) => r.kind === "CoA")
        expect(coas2).toHaveLength(2)
        expect(String(coas2[1]!.vendor["Mikrotik-Rate-Limit"])).toMatch(/^2000k\/10000k/)
        expect(routerRows(router, serviceId).queues[0]).toMatchObject({ "max-limit": "2000000/10000000" })
        service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(serviceId))
        expect([service.downloadSpeedKbps, service.uploadSpeedKbps]).toEqual([10_000, 2_000])
        const open = yield* alerts.search({ service_id: serviceId, type: "FUP_APPLIED", status: "OPEN" })
        expect(open.items).toHaveLength(0)
      }))
  })
})
