/**
 * Test wiring for the provisioning tests: memory repositories, the memory IP allocator, the network
 * simulators, a recording BillingHooks, the memory Transactor and fast engine settings.
 */
import { Effect, Layer, Schedule, Schema } from "effect"
import { CreateService } from "../../src/domain/CustomerService.js"
import type { CustomerService } from "../../src/domain/CustomerService.js"
import { CreateTemplate } from "../../src/domain/ServiceTemplate.js"
import * as MemoryIpAllocator from "../../src/memory/MemoryIpAllocator.js"
import { MemoryRepositoriesLayer } from "../../src/memory/index.js"
import * as SimulatedNas from "../../src/memory/SimulatedNas.js"
import * as SimulatedRadius from "../../src/memory/SimulatedRadius.js"
import * as SimulatedRouter from "../../src/memory/SimulatedRouter.js"
import { IpAllocator } from "../../src/ports/IpAllocator.js"
import { BillingHooks } from "../../src/ports/Network.js"
import * as Transactor from "../../src/ports/Transactor.js"
import { Reconciler } from "../../src/services/Reconciler.js"
import { ServiceCatalog } from "../../src/services/ServiceCatalog.js"
import { ServiceLifecycle } from "../../src/services/ServiceLifecycle.js"
import { ServiceProvisioning } from "../../src/services/ServiceProvisioning.js"
import { EngineConfig, type EngineSettings, WorkflowEngine } from "../../src/workflows/Engine.js"

/** Billing calls, in order. */
export class BillingLog extends Effect.Service<BillingLog>()("test/BillingLog", {
  sync: () => ({ calls: [] as Array<{ hook: string; serviceId: string }> })
}) {}

const billingLayer = Layer.effect(
  BillingHooks,
  Effect.map(BillingLog, (log) => {
    const record = (hook: string) => (s: CustomerService) => Effect.sync(() => void log.calls.push({ hook, serviceId: s.id }))
    return {
      onActivated: record("onActivated"),
      onSuspended: record("onSuspended"),
      onResumed: record("onResumed"),
      onTerminated: record("onTerminated")
    }
  })
)

export const fastSettings: EngineSettings = {
  maxAttempts: 3,
  backoff: Schedule.spaced("5 millis"),
  stepTimeout: "400 millis",
  nasTimeout: "100 millis",
  leaseMillis: 1_000,
  compensationAttempts: 3,
  blockedDelay: "5 millis"
}

/** Everything a provisioning test needs, each test file / `it.layer` with fresh stores. */
export const testLayer = (settings: Partial<EngineSettings> = {}) => {
  const infra = Layer.mergeAll(
    MemoryRepositoriesLayer,
    MemoryIpAllocator.layer,
    SimulatedRadius.layer,
    SimulatedRouter.layer,
    SimulatedNas.layer,
    billingLayer.pipe(Layer.provideMerge(BillingLog.Default)),
    Transactor.layerMemory,
    Layer.succeed(EngineConfig, { ...fastSettings, ...settings })
  )
  return Layer.mergeAll(
    ServiceProvisioning.Default,
    WorkflowEngine.Default,
    Reconciler.Default,
    ServiceCatalog.Default,
    ServiceLifecycle.Default
  ).pipe(Layer.provideMerge(infra))
}

/** An IPv4 pool and an INTERNET template using it (10 Mbit/s down, 2 up, with burst). */
export const setupPlan = (options: { readonly cidr?: string; readonly name?: string; readonly quarantineSeconds?: number } = {}) =>
  Effect.gen(function*() {
    const ips = yield* IpAllocator
    const catalog = yield* ServiceCatalog
    const suffix = Math.random().toString(36).slice(2, 8)
    const pool = yield* ips.createPool({
      name: `pool-${suffix}`,
      cidr: options.cidr ?? "10.20.0.0/24",
      gateway: null,
      quarantineSeconds: options.quarantineSeconds ?? 300
    })
    const template = yield* catalog.create(Schema.decodeUnknownSync(CreateTemplate)({
      serviceType: "INTERNET",
      name: options.name ?? `home-${suffix}`,
      displayName: "Home 10",
      tariffId: "tariff-home-10",
      internet: {
        downloadSpeedKbps: 10_000,
        uploadSpeedKbps: 2_000,
        burst: {
          downloadKbps: 15_000,
          uploadKbps: 3_000,
          thresholdDownloadKbps: 8_000,
          thresholdUploadKbps: 1_500,
          timeSeconds: 16
        },
        ipPoolId: pool.id,
        suspendedSpeedKbps: 512,
        routerProfile: "default"
      }
    }))
    const faster = yield* catalog.create(Schema.decodeUnknownSync(CreateTemplate)({
      serviceType: "INTERNET",
      name: `${options.name ?? `home-${suffix}`}-50`,
      displayName: "Home 50",
      tariffId: "tariff-home-50",
      internet: { downloadSpeedKbps: 50_000, uploadSpeedKbps: 10_000, ipPoolId: pool.id }
    }))
    return { pool, template, faster }
  })

/** A PPPoE request for `templateId`. */
export const pppoeRequest = (templateId: string, n: number | string, customer = `cust-${n}`) =>
  Schema.decodeUnknownSync(CreateService)({
    customerId: customer,
    templateId,
    connectionType: "PPPOE",
    pppoeUsername: `user${n}@isp`,
    pppoePassword: `secret-${n}`,
    routerId: "bng-1"
  })
