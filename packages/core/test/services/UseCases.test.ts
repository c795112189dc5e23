import { describe, expect, it } from "@effect/vitest"
import {
  CreateService,
  CreateTemplate,
  InternetSpec,
  type CustomerId,
  MemoryLayer,
  ServiceCatalog,
  ServiceLifecycle,
  ServiceQuery,
  type TariffId
} from "@isp-framework/core"
import { DateTime, Effect, Either, Layer, Redacted } from "effect"

const UseCases = Layer.mergeAll(ServiceCatalog.Default, ServiceLifecycle.Default, ServiceQuery.Default).pipe(
  Layer.provideMerge(MemoryLayer)
)

const fiber = (name: string, extra: Partial<ConstructorParameters<typeof CreateTemplate>[0]> = {}) =>
  CreateTemplate.make({
    serviceType: "INTERNET",
    name,
    displayName: name.toUpperCase(),
    tariffId: "T-1" as TariffId,
    internet: InternetSpec.make({ downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000 }),
    ...extra
  })

const pppoe = (templateId: CreateService["templateId"], customer: string, user: string) =>
  CreateService.make({
    customerId: customer as CustomerId,
    templateId,
    connectionType: "PPPOE",
    pppoeUsername: user,
    pppoePassword: Redacted.make("s3cret")
  })

describe("ServiceCatalog", () => {
  it.effect("creates, updates and lists templates with filter dicts", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const a = yield* catalog.create(fiber("fiber-100"))
      yield* catalog.create(fiber("fiber-500", { price: 50 }))
      yield* catalog.update(a.id, { price: 25, isActive: false })
      const inactive = yield* catalog.list({ is_active: "false" })
      expect(inactive.items.map((t) => t.name)).toEqual(["fiber-100"])
      expect(inactive.items[0]!.price).toBe(25)
      const cheap = yield* catalog.list({ price__lte: 30, order_by: "name" })
      expect(cheap.items.map((t) => t.name)).toEqual(["fiber-100"])
    }).pipe(Effect.provide(UseCases)))

  it.effect("rejects an INTERNET template without its internet part, and a duplicate name", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const missing = yield* Effect.either(catalog.create(fiber("no-part", { internet: null })))
      expect(Either.getLeft(missing).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("ValidationError")
      yield* catalog.create(fiber("dup"))
      const dup = yield* Effect.either(catalog.create(fiber("dup")))
      expect(Either.getLeft(dup).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("Conflict")
    }).pipe(Effect.provide(UseCases)))

  it.effect("availability by location and sale window", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const now = yield* DateTime.now
      yield* catalog.create(fiber("everywhere"))
      yield* catalog.create(fiber("north-only", { availableLocations: ["north"] }))
      yield* catalog.create(fiber("future", { availableFrom: DateTime.add(now, { days: 1 }) }))
      const north = (yield* catalog.availableAt("north")).map((t) => t.name).sort()
      const south = (yield* catalog.availableAt("south")).map((t) => t.name).sort()
      expect(north).toEqual(["everywhere", "north-only"])
      expect(south).toEqual(["everywhere"])
    }).pipe(Effect.provide(UseCases)))
})

describe("ServiceLifecycle", () => {
  it.effect("creates a PENDING service with the template's tariff and speeds and a history row", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const lifecycle = yield* ServiceLifecycle
      const plan = yield* catalog.create(fiber("p1"))
      const s = yield* lifecycle.create(pppoe(plan.id, "C-1", "alice"))
      expect(s.status).toBe("PENDING")
      expect(s.tariffId).toBe("T-1")
      expect(s.downloadSpeedKbps).toBe(100_000)
      expect(s.serviceNumber).toMatch(/^SVC-\d{6}$/)
      const history = yield* lifecycle.history(s.id)
      expect(history.map((h) => [h.previousStatus, h.nextStatus])).toEqual([[null, "PENDING"]])
    }).pipe(Effect.provide(UseCases)))

  it.effect("PPPOE needs credentials; a live username cannot be taken twice", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const lifecycle = yield* ServiceLifecycle
      const plan = yield* catalog.create(fiber("p2"))
      const noCreds = yield* Effect.either(lifecycle.create(CreateService.make({
        customerId: "C-1" as CustomerId,
        templateId: plan.id,
        connectionType: "PPPOE"
      })))
      expect(Either.getLeft(noCreds).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("ValidationError")
      yield* lifecycle.create(pppoe(plan.id, "C-1", "bob"))
      const taken = yield* Effect.either(lifecycle.create(pppoe(plan.id, "C-2", "bob")))
      expect(Either.getLeft(taken).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("Conflict")
    }).pipe(Effect.provide(UseCases)))

  it.effect("suspend → resume → terminate, each with a history row; illegal events are typed errors", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const lifecycle = yield* ServiceLifecycle
      const plan = yield* catalog.create(fiber("p3"))
      const s = yield* lifecycle.create(pppoe(plan.id, "C-1", "carol"))
      const early = yield* Effect.either(lifecycle.suspend(s.id, { reason: "NON_PAYMENT", suspensionType: "FULL" }))
      expect(Either.getLeft(early).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("InvalidTransition")
      yield* lifecycle.apply(s.id, { _tag: "ProvisioningSucceeded" })
      const suspended = yield* lifecycle.suspend(s.id, { reason: "NON_PAYMENT", suspensionType: "FULL", note: "unpaid" })
      expect(suspended.next.suspensionReason).toBe("NON_PAYMENT")
      const resumed = yield* lifecycle.resume(s.id)
      expect(resumed.next.status).toBe("ACTIVE")
      expect(resumed.next.downloadSpeedKbps).toBe(100_000)
      yield* lifecycle.terminate(s.id)
      const again = yield* Effect.either(lifecycle.resume(s.id))
      expect(Either.getLeft(again).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("InvalidTransition")
      const history = yield* lifecycle.history(s.id)
      expect(history.map((h) => h.nextStatus)).toEqual(["PENDING", "ACTIVE", "SUSPENDED", "ACTIVE", "TERMINATED"])
      expect(history[2]!.reason).toBe("NON_PAYMENT")
      expect(history[2]!.note).toBe("unpaid")
    }).pipe(Effect.provide(UseCases)))

  it.effect("20 concurrent activations of one service: exactly one succeeds, one history row", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const lifecycle = yield* ServiceLifecycle
      const plan = yield* catalog.create(fiber("p4"))
      const s = yield* lifecycle.create(pppoe(plan.id, "C-1", "dave"))
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => Effect.either(lifecycle.apply(s.id, { _tag: "ProvisioningSucceeded" }))),
        { concurrency: "unbounded" }
      )
      expect(results.filter(Either.isRight)).toHaveLength(1)
      for (const r of results.filter(Either.isLeft)) expect(r.left._tag).toBe("InvalidTransition")
      const history = yield* lifecycle.history(s.id)
      expect(history.filter((h) => h.nextStatus === "ACTIVE")).toHaveLength(1)
    }).pipe(Effect.provide(UseCases)))

  it.effect("plan change moves to the new template's tariff and speeds", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const lifecycle = yield* ServiceLifecycle
      const small = yield* catalog.create(fiber("small"))
      const big = yield* catalog.create(fiber("big", {
        tariffId: "T-BIG" as TariffId,
        internet: InternetSpec.make({ downloadSpeedKbps: 500_000, uploadSpeedKbps: 100_000 })
      }))
      const s = yield* lifecycle.create(pppoe(small.id, "C-1", "erin"))
      yield* lifecycle.apply(s.id, { _tag: "ProvisioningSucceeded" })
      const t = yield* lifecycle.changePlan(s.id, big.id)
      expect(t.next.tariffId).toBe("T-BIG")
      expect(t.next.downloadSpeedKbps).toBe(500_000)
    }).pipe(Effect.provide(UseCases)))
})

describe("ServiceQuery", () => {
  it.effect("searches with filters, includes the template, and scopes to a customer", () =>
    Effect.gen(function*() {
      const catalog = yield* ServiceCatalog
      const lifecycle = yield* ServiceLifecycle
      const query = yield* ServiceQuery
      const plan = yield* catalog.create(fiber("q1"))
      const a = yield* lifecycle.create(pppoe(plan.id, "C-A", "qa1"))
      const b = yield* lifecycle.create(pppoe(plan.id, "C-B", "qb1"))
      yield* lifecycle.apply(a.id, { _tag: "ProvisioningSucceeded" })
      const active = yield* query.search({ status: "ACTIVE", include: "template" })
      expect(active.items.map((x) => x.service.id)).toEqual([a.id])
      expect(active.items[0]!.template?.name).toBe("q1")
      const scoped = yield* query.search({}, { customerId: "C-B" as CustomerId })
      expect(scoped.items.map((x) => x.service.id)).toEqual([b.id])
      const hidden = yield* Effect.either(query.get(a.id, { scope: { customerId: "C-B" as CustomerId } }))
      expect(Either.getLeft(hidden).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("ServiceNotFound")
      const withHistory = yield* query.get(a.id, { include: ["history", "template"] })
      expect(withHistory.history?.map((h) => h.nextStatus)).toEqual(["PENDING", "ACTIVE"])
      const badInclude = yield* Effect.either(query.get(a.id, { include: ["everything"] }))
      expect(Either.getLeft(badInclude).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("InvalidFilter")
      const bad = yield* Effect.either(query.search({ colour: "red" }))
      expect(Either.getLeft(bad).pipe((o) => o._tag === "Some" && o.value._tag)).toBe("InvalidFilter")
    }).pipe(Effect.provide(UseCases)))
})
