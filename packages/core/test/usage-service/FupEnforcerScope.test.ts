/**
 * After an ingest the enforcer evaluates only services that usage can act on (a data limit or FUP
 * tiers on the plan, or a prepaid balance): a service on an unlimited plan costs no usage reads.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Ref, Schema } from "effect"
import { CreateTemplate } from "../../src/domain/ServiceTemplate.js"
import { makeAccountingRecord } from "../../src/domain/Usage.js"
import * as MemoryUsageStore from "../../src/memory/MemoryUsageStore.js"
import { UsageStore } from "../../src/ports/UsageStore.js"
import { FupEnforcer } from "../../src/services/FupEnforcer.js"
import { ServiceAlerts } from "../../src/services/ServiceAlerts.js"
import { ServiceCatalog } from "../../src/services/ServiceCatalog.js"
import { ServiceProvisioning } from "../../src/services/ServiceProvisioning.js"
import { ServiceUsage } from "../../src/services/ServiceUsage.js"
import { WorkflowEngine } from "../../src/workflows/Engine.js"
import { pppoeRequest, setupPlan, testLayer } from "../workflows/fixtures.js"

/** Counts `UsageStore.buckets` reads (what evaluating a service's position does). */
class BucketReads extends Effect.Service<BucketReads>()("test/BucketReads", { effect: Ref.make(0) }) {}
const countingStore = Layer.effect(
  UsageStore,
  Effect.gen(function*() {
    const store = yield* UsageStore
    const reads = yield* BucketReads
    return UsageStore.of({ ...store, buckets: (...args) => Effect.zipRight(Ref.update(reads, (n) => n + 1), store.buckets(...args)) })
  })
).pipe(Layer.provide(MemoryUsageStore.layer))

const layer = FupEnforcer.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(ServiceUsage.Default, ServiceAlerts.Default)),
  Layer.provideMerge(Layer.mergeAll(countingStore, MemoryUsageStore.framedIpLayer, MemoryUsageStore.prepaidLayer)),
  Layer.provideMerge(BucketReads.Default),
  Layer.provideMerge(testLayer())
)

const interim = (user: string, bytes: number) =>
  makeAccountingRecord({
    statusType: "Interim-Update",
    acctSessionId: `scope-${user}`,
    userName: user,
    nasIpAddress: "192.0.2.1",
    inputOctets: bytes,
    outputOctets: bytes,
    sessionTime: 300,
    eventTime: DateTime.unsafeMake(Date.now()) as DateTime.Utc
  })

describe("FupEnforcer.afterIngest", () => {
  it.live("evaluates services on limited plans only; unlimited ones cost no usage reads", () =>
    Effect.gen(function*() {
      const { pool, template: unlimited } = yield* setupPlan()
      const limited = yield* (yield* ServiceCatalog).create(Schema.decodeUnknownSync(CreateTemplate)({
        serviceType: "INTERNET",
        name: `capped-${Math.random().toString(36).slice(2, 8)}`,
        displayName: "Capped",
        tariffId: "tariff-capped",
        internet: { downloadSpeedKbps: 10_000, uploadSpeedKbps: 2_000, ipPoolId: pool.id, monthlyDataLimitBytes: "1000000" }
      }))
      const provisioning = yield* ServiceProvisioning
      const a = yield* provisioning.provisionInternet(pppoeRequest(unlimited.id, "scope-a"))
      const b = yield* provisioning.provisionInternet(pppoeRequest(limited.id, "scope-b"))
      yield* (yield* WorkflowEngine).drain([a.workflow.id, b.workflow.id])
      const usage = yield* ServiceUsage
      const enforcer = yield* FupEnforcer
      const reads = yield* BucketReads

      const free = yield* usage.ingest([interim("userscope-a@isp", 900_000)])
      yield* Ref.set(reads, 0)
      const [onlyA] = yield* enforcer.afterIngest(free)
      expect(onlyA).toMatchObject({ serviceId: a.service.id, fup: null, speedChanged: false, quotaAlerts: [] })
      expect(yield* Ref.get(reads)).toBe(0)

      const capped = yield* usage.ingest([interim("userscope-b@isp", 450_000)])
      yield* Ref.set(reads, 0)
      const [onlyB] = yield* enforcer.afterIngest(capped)
      expect(onlyB!.quotaAlerts.map((q) => q.cause)).toEqual(["QUOTA_WARNING:80"])
      expect(yield* Ref.get(reads)).toBeGreaterThan(0)
    }).pipe(Effect.provide(layer)), 30_000)
})
