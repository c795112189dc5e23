/**
 * FUP end to end on the memory layer: accounting pushes a service over its FUP threshold →
 * CHANGE_SPEED (CoA with the tier's rate at the simulated NAS, queue change at the simulated
 * router) and a FUP_APPLIED alert plus quota alerts; the next billing period restores plan speed.
 * Prepaid: an exhausted balance suspends, a top-up resumes.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import { CreateTemplate } from "../../src/domain/ServiceTemplate.js"
import { makeAccountingRecord } from "../../src/domain/Usage.js"
import type { ServiceId } from "../../src/domain/Ids.js"
import * as MemoryUsageStore from "../../src/memory/MemoryUsageStore.js"
import { SimulatedNas } from "../../src/memory/SimulatedNas.js"
import { SimulatedRouter } from "../../src/memory/SimulatedRouter.js"
import { ServiceRepository } from "../../src/ports/ServiceRepository.js"
import { FupEnforcer } from "../../src/services/FupEnforcer.js"
import { ServiceAlerts } from "../../src/services/ServiceAlerts.js"
import { ServiceCatalog } from "../../src/services/ServiceCatalog.js"
import { ServiceProvisioning } from "../../src/services/ServiceProvisioning.js"
import { ServiceUsage } from "../../src/services/ServiceUsage.js"
import { WorkflowEngine } from "../../src/workflows/Engine.js"
import { pppoeRequest, setupPlan, testLayer } from "../workflows/fixtures.js"

const GB = 1_000_000_000
const layer = FupEnforcer.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(ServiceUsage.Default, ServiceAlerts.Default)),
  Layer.provideMerge(MemoryUsageStore.layerAll),
  Layer.provideMerge(testLayer())
)

const drainAll = (serviceId: ServiceId) =>
  Effect.gen(function*() {
    const wfs = yield* (yield* ServiceProvisioning).workflowsFor(serviceId)
    yield* (yield* WorkflowEngine).drain(wfs.filter((w) => w.status === "PENDING" || w.status === "RUNNING").map((w) => w.id))
  })

const interim = (user: string, at: number, bytes: number, t: number) =>
  makeAccountingRecord({
    statusType: "Interim-Update",
    acctSessionId: "fup-1",
    userName: user,
    nasIpAddress: "192.0.2.1",
    inputOctets: Math.floor(bytes / 10) % 4_294_967_296,
    inputGigawords: Math.floor(Math.floor(bytes / 10) / 4_294_967_296),
    outputOctets: (bytes - Math.floor(bytes / 10)) % 4_294_967_296,
    outputGigawords: Math.floor((bytes - Math.floor(bytes / 10)) / 4_294_967_296),
    sessionTime: t,
    eventTime: DateTime.unsafeMake(at) as DateTime.Utc
  })

describe("FupEnforcer", () => {
  it.live("crossing the threshold: CoA + queue at tier rate, FUP_APPLIED and quota alerts; next period restores", () =>
    Effect.gen(function*() {
      const { pool } = yield* setupPlan()
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
      const provisioning = yield* ServiceProvisioning
      const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "fup1"))
      yield* (yield* WorkflowEngine).drain([started.workflow.id])
      const service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(started.service.id))
      const usage = yield* ServiceUsage
      const enforcer = yield* FupEnforcer
      const t0 = Date.now()

      // 4 GB: below the tier, no change.
      const r1 = yield* usage.ingest([interim("userfup1@isp", t0, 4 * GB, 300)])
      const e1 = yield* enforcer.afterIngest(r1)
      expect(e1[0]!.speedChanged).toBe(false)
      // 8.5 GB: tier 1 (5 GB) and the 80 % quota warning.
      const r2 = yield* usage.ingest([interim("userfup1@isp", t0 + 1000, 8.5 * GB, 600)])
      const [e2] = yield* enforcer.afterIngest(r2)
      expect(e2!.speedChanged).toBe(true)
      expect(e2!.fup?.tierIndex).toBe(0)
      expect(e2!.quotaAlerts.map((a) => a.cause)).toEqual(["QUOTA_WARNING:80"])
      yield* drainAll(service.id)
      const coa = (yield* (yield* SimulatedNas).requests).filter((r) => r._tag === "CoA").at(-1)!
      expect(coa._tag === "CoA" && coa.rate).toEqual({ downloadKbps: 2_000, uploadKbps: 1_000 })
      const queues = (yield* (yield* SimulatedRouter).objects("bng-1")).queues.map((q) => q["max-limit"])
      expect(queues).toEqual(["1000k/2000k"])
      const alerts = yield* ServiceAlerts
      const fupAlerts = yield* alerts.search({ service_id: service.id, type: "FUP_APPLIED" })
      expect(fupAlerts.items).toHaveLength(1)
      // A retransmit changes nothing: no new quota alert, no new speed change.
      const [e3] = yield* enforcer.afterIngest(yield* usage.ingest([interim("userfup1@isp", t0 + 1000, 8.5 * GB, 600)]))
      expect(e3).toBeUndefined()

      // Next billing period (anniversary monthly): plan speed restored, alert resolved.
      const next = DateTime.add(DateTime.unsafeMake(t0) as DateTime.Utc, { months: 1, days: 1 })
      const [e4] = yield* enforcer.tick(next)
      expect(e4!.speedChanged).toBe(true)
      expect(e4!.fup?.tierIndex).toBeNull()
      yield* drainAll(service.id)
      expect((yield* (yield* SimulatedRouter).objects("bng-1")).queues.map((q) => q["max-limit"])).toEqual(["2000k/10000k"])
      const open = yield* alerts.search({ service_id: service.id, type: "FUP_APPLIED", status: "OPEN" })
      expect(open.items).toHaveLength(0)
    }).pipe(Effect.provide(layer)), 30_000)
})
