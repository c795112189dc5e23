/**
 * Plans read while mapping records are reused for `templateCacheSeconds` (by default the resolver's
 * TTL), independently of the mappings themselves: with mappings never cached, a plan is still read
 * once a minute, not once per batch — and with both at 0, once per batch.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Schema } from "effect"
import { CreateService } from "../../src/domain/CustomerService.js"
import { makeAccountingRecord } from "../../src/domain/Usage.js"
import * as MemoryUsageStore from "../../src/memory/MemoryUsageStore.js"
import { TemplateRepository } from "../../src/ports/TemplateRepository.js"
import { ServiceLifecycle } from "../../src/services/ServiceLifecycle.js"
import { defaultUsageSettings, ServiceUsage, UsageConfig, type UsageSettings } from "../../src/services/ServiceUsage.js"
import { setupPlan, testLayer } from "../workflows/fixtures.js"

const T0 = Date.parse("2026-03-10T10:00:00Z")

/** Plan reads of the ingest, counted; `run` ingests `batches` one-record batches of one PPPoE session. */
const readsFor = (settings: UsageSettings, batches: number) => {
  let reads = 0
  const counting = Layer.effect(
    TemplateRepository,
    Effect.map(TemplateRepository, (repo) => ({
      ...repo,
      findById: (id: Parameters<typeof repo.findById>[0]) => Effect.suspend(() => (reads++, repo.findById(id)))
    }))
  )
  const layer = ServiceUsage.Default.pipe(
    Layer.provide(counting),
    Layer.provide(Layer.succeed(UsageConfig, settings)),
    Layer.provideMerge(MemoryUsageStore.layerAll),
    Layer.provideMerge(testLayer())
  )
  return Effect.gen(function*() {
    const lifecycle = yield* ServiceLifecycle
    const usage = yield* ServiceUsage
    const { template } = yield* setupPlan({ name: "template-cache" })
    yield* lifecycle.create(Schema.decodeUnknownSync(CreateService)({
      templateId: template.id,
      customerId: "c-cache",
      connectionType: "PPPOE",
      pppoeUsername: "cache@isp",
      pppoePassword: "pw"
    }))
    const before = reads
    for (let k = 1; k <= batches; k++) {
      const result = yield* usage.ingest([makeAccountingRecord({
        statusType: "Interim-Update",
        acctSessionId: "cache-1",
        userName: "cache@isp",
        nasIpAddress: "192.0.2.1",
        inputOctets: 1000 * k,
        outputOctets: 2000 * k,
        sessionTime: 60 * k,
        eventTime: DateTime.unsafeMake(T0 + k * 60_000) as DateTime.Utc
      })])
      // Mapped each time (the plan is needed for the period bucket), so each batch counts.
      expect(result.affectedServices.length).toBe(1)
    }
    return reads - before
  }).pipe(Effect.provide(layer))
}

describe("ServiceUsage plan cache", () => {
  it.effect("mappings uncached, plans cached: one plan read for many batches", () =>
    Effect.gen(function*() {
      expect(yield* readsFor({ ...defaultUsageSettings, resolverCacheSeconds: 0, templateCacheSeconds: 60 }, 4)).toBe(1)
    }))

  it.effect("both uncached (the plan TTL follows the resolver's by default): one plan read per batch", () =>
    Effect.gen(function*() {
      expect(yield* readsFor({ ...defaultUsageSettings, resolverCacheSeconds: 0 }, 4)).toBe(4)
    }))
})
