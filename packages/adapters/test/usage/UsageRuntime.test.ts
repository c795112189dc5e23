/**
 * UsageRuntime on the memory layers: the scheduled sweep closes silent sessions by itself,
 * `onIngested` hands a batch to the FUP enforcer, a failing step does not stop the sweep, and
 * closing the scope stops the fiber.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  CreateTemplate,
  FupEnforcer,
  IpAllocator,
  makeAccountingRecord,
  MemoryUsageStore,
  ServiceAlerts,
  ServiceCatalog,
  ServiceProvisioning,
  ServiceUsage,
  WorkflowEngine
} from "@isp-framework/core"
import { DateTime, Effect, Layer, Schedule, Schema } from "effect"
import * as UsageRuntime from "../../src/layers/UsageRuntime.js"
import { pppoeRequest, testLayer } from "../../../core/test/workflows/fixtures.js"

const GB = 1_000_000_000

const layer = FupEnforcer.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(ServiceUsage.Default, ServiceAlerts.Default)),
  Layer.provideMerge(MemoryUsageStore.layerAll),
  Layer.provideMerge(testLayer())
)

const interim = (user: string, session: string, at: number, bytes: number, t: number) =>
  makeAccountingRecord({
    statusType: "Interim-Update",
    acctSessionId: session,
    userName: user,
    nasIpAddress: "192.0.2.9",
    inputOctets: 0,
    outputOctets: bytes % 4_294_967_296,
    outputGigawords: Math.floor(bytes / 4_294_967_296),
    sessionTime: t,
    eventTime: DateTime.unsafeMake(at) as DateTime.Utc
  })

const fupService = (n: string) =>
  Effect.gen(function*() {
    const pool = yield* (yield* IpAllocator).createPool({ name: `rt-${n}`, cidr: "10.77.0.0/24", gateway: null, quarantineSeconds: 300 })
    const template = yield* (yield* ServiceCatalog).create(Schema.decodeUnknownSync(CreateTemplate)({
      serviceType: "INTERNET",
      name: `rt-${n}`,
      displayName: "FUP",
      tariffId: "t",
      internet: {
        downloadSpeedKbps: 10_000,
        uploadSpeedKbps: 2_000,
        ipPoolId: pool.id,
        fup: { tiers: [{ thresholdBytes: String(1 * GB), downloadKbps: 1_000, uploadKbps: 500 }] }
      }
    }))
    const started = yield* (yield* ServiceProvisioning).provisionInternet(pppoeRequest(template.id, n))
    yield* (yield* WorkflowEngine).drain([started.workflow.id])
    return started.service.id
  })

describe("UsageRuntime", () => {
  it.live("the scheduled sweep closes a silent session; scope close stops it", () =>
    Effect.gen(function*() {
      const serviceId = yield* fupService("rt1")
      const usage = yield* ServiceUsage
      // Last heard of an hour ago: more than 3 × 300 s.
      yield* usage.ingest([interim("userrt1@isp", "rt-s1", Date.now() - 3_600_000, 1000, 60)])
      expect((yield* usage.sessions(serviceId, { status: "OPEN" })).length).toBe(1)

      const sweeps = yield* Effect.scoped(Effect.gen(function*() {
        const runtime = yield* UsageRuntime.make({ sweep: Schedule.spaced("20 millis") })
        yield* Effect.flatMap(runtime.sweeps, (n) => n >= 3 ? Effect.void : Effect.fail("wait")).pipe(
          Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.upTo("5 seconds")))
        )
        return runtime.sweeps
      }))
      const [closed] = yield* usage.sessions(serviceId, { status: "CLOSED" })
      expect(closed?.closeSource).toBe("STALE")
      expect(closed?.stoppedAt?.epochMillis).toBe(closed?.lastUpdateAt.epochMillis)
      const after = yield* sweeps
      yield* Effect.sleep("100 millis")
      expect(yield* sweeps).toBe(after) // fiber stopped with the scope
    }).pipe(Effect.provide(layer)), 20_000)

  it.live("onIngested enforces FUP on the batch's services", () =>
    Effect.gen(function*() {
      const serviceId = yield* fupService("rt2")
      const usage = yield* ServiceUsage
      const runtime = yield* UsageRuntime.make({ sweep: Schedule.spaced("1 hour") })
      const result = yield* usage.ingest([interim("userrt2@isp", "rt-s2", Date.now(), 2 * GB, 60)])
      yield* runtime.onIngested(result)
      yield* runtime.enforced
      const applied = yield* (yield* ServiceAlerts).search({ service_id: serviceId, type: "FUP_APPLIED" })
      expect(applied.items).toHaveLength(1)
      const wfs = yield* (yield* ServiceProvisioning).workflowsFor(serviceId)
      expect(wfs.map((w) => w.kind)).toContain("CHANGE_SPEED")
      // A sweep now: the throttled service is re-evaluated, nothing changes within the period.
      const report = yield* runtime.sweepOnce
      expect(report.enforcements).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(layer)), 20_000)
})
