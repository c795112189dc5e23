// The README's example: the core use-cases on the in-memory adapters (no database, no network).
// Run: npx tsx examples/core/main.ts
import {
  CreateService,
  CreateTemplate,
  InternetSpec,
  MemoryLayer,
  ServiceCatalog,
  ServiceLifecycle,
  ServiceQuery
} from "@isp-framework/core"
import { Effect, Layer, Redacted } from "effect"

const program = Effect.gen(function*() {
  const catalog = yield* ServiceCatalog
  const lifecycle = yield* ServiceLifecycle
  const plan = yield* catalog.create(CreateTemplate.make({
    serviceType: "INTERNET", name: "fiber-100", displayName: "Fiber 100", tariffId: CreateTemplate.fields.tariffId.make("T-100"),
    internet: InternetSpec.make({ downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000 })
  }))
  const svc = yield* lifecycle.create(CreateService.make({
    customerId: CreateService.fields.customerId.make("C-1"), templateId: plan.id,
    connectionType: "PPPOE", pppoeUsername: "alice", pppoePassword: Redacted.make("s3cret")
  }))
  yield* lifecycle.apply(svc.id, { _tag: "ProvisioningSucceeded" })
  const page = yield* (yield* ServiceQuery).search({ status: "ACTIVE", order_by: "-created_at", include: "template" })
  for (const { service, template } of page.items) console.log(service.serviceNumber, service.status, template?.name)
})

const UseCases = Layer.mergeAll(ServiceQuery.Default, ServiceLifecycle.Default, ServiceCatalog.Default).pipe(Layer.provideMerge(MemoryLayer))
Effect.runPromise(Effect.provide(program, UseCases))
