/**
 * The behaviour every {@link AlertRepository} must show, as one suite to run against any layer.
 *
 * @since 0.1.0
 */
import { expect } from "@effect/vitest"
import { DateTime, Effect, Layer, Option } from "effect"
import { RaiseAlert, ServiceAlert } from "../domain/Alert.js"
import type { AlertId, PoolId } from "../domain/Ids.js"
import { AlertFilterSpec } from "../filters/specs/AlertFilterSpec.js"
import { AlertRepository } from "../ports/AlertRepository.js"
import type { ServiceRepository } from "../ports/ServiceRepository.js"
import type { TemplateRepository } from "../ports/TemplateRepository.js"
import { collectPages, type ContractOptions, expectSame, failureOf, query, race, suite } from "./ContractSupport.js"
import { baseTime, freshId, makeRaiseAlert, unique } from "./Fixtures.js"
import { storedService } from "./ServiceRepositoryContract.js"

const at = (minutes: number) => DateTime.unsafeMake(DateTime.toEpochMillis(baseTime) + minutes * 60_000)

/** A raise input for a fresh stored service (backends may enforce the foreign key). */
const forService = (overrides: Parameters<typeof makeRaiseAlert>[0] = {}) =>
  Effect.map(storedService(), (service) =>
    makeRaiseAlert({ serviceId: service.id, customerId: service.customerId, ...overrides })
  )

/**
 * Declares the alert repository contract as `describe(name, …)` over `layer`, which must also
 * provide the service and template repositories (alerts reference stored services). Pool alerts
 * are raised with fresh pool ids, so `pool_id` must not be a foreign key. Tests share one store
 * and isolate themselves by fresh services and unique causes.
 *
 * @since 0.1.0
 */
export const alertRepositoryContract = <E>(
  name: string,
  layer: Layer.Layer<AlertRepository | ServiceRepository | TemplateRepository, E>,
  options?: ContractOptions
): void =>
  suite(name, layer, options, (it) => {
    it.effect("raise creates an OPEN alert with the input's values", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const input = yield* forService()
        const { alert, created } = yield* repo.raise(input, at(1))
        expect(created).toBe(true)
        expect(alert).toMatchObject({
          serviceId: input.serviceId,
          customerId: input.customerId,
          poolId: null,
          type: input.type,
          severity: input.severity,
          status: "OPEN",
          title: input.title,
          message: input.message,
          cause: input.cause,
          thresholdValue: 80,
          currentValue: 81,
          acknowledgedBy: null,
          acknowledgedAt: null,
          resolvedBy: null,
          resolvedAt: null,
          resolutionNotes: null
        })
        expect(DateTime.toEpochMillis(alert.createdAt)).toBe(DateTime.toEpochMillis(at(1)))
        expect(DateTime.toEpochMillis(alert.updatedAt)).toBe(DateTime.toEpochMillis(at(1)))
        expectSame(ServiceAlert, Option.getOrThrow(yield* repo.findById(alert.id)), alert)
        expect(Option.isNone(yield* repo.findById(freshId<AlertId>()))).toBe(true)
      }))

    it.effect("raising an open cause again updates that alert instead of adding one", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const input = yield* forService()
        const first = yield* repo.raise(input, at(1))
        const again = yield* repo.raise(
          new RaiseAlert({ ...input, severity: "CRITICAL", message: "95%", currentValue: 95 }),
          at(2)
        )
        expect(again.created).toBe(false)
        expect(again.alert.id).toBe(first.alert.id)
        expect(again.alert).toMatchObject({ severity: "CRITICAL", message: "95%", currentValue: 95, status: "OPEN" })
        expect(DateTime.toEpochMillis(again.alert.createdAt)).toBe(DateTime.toEpochMillis(at(1)))
        expect(DateTime.toEpochMillis(again.alert.updatedAt)).toBe(DateTime.toEpochMillis(at(2)))
        expectSame(ServiceAlert, Option.getOrThrow(yield* repo.findById(first.alert.id)), again.alert)
        const open = yield* Effect.flatMap(query(AlertFilterSpec, { cause: input.cause }), repo.search)
        expect(open.items).toHaveLength(1)
      }))

    it.effect("another cause, or the same cause on another service, is a separate alert", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const input = yield* forService()
        const first = yield* repo.raise(input, at(1))
        const otherCause = yield* repo.raise(new RaiseAlert({ ...input, cause: unique("SLA:") }), at(1))
        const other = yield* forService({ cause: input.cause })
        const otherService = yield* repo.raise(other, at(1))
        expect(otherCause.created).toBe(true)
        expect(otherService.created).toBe(true)
        expect(new Set([first.alert.id, otherCause.alert.id, otherService.alert.id]).size).toBe(3)
      }))

    it.effect("pool alerts deduplicate per (pool, cause)", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const poolId = freshId<PoolId>()
        const input = makeRaiseAlert({ poolId, type: "POOL_NEARLY_EXHAUSTED", cause: "POOL_NEARLY_EXHAUSTED:90" })
        const first = yield* repo.raise(input, at(1))
        const again = yield* repo.raise(input, at(2))
        const otherPool = yield* repo.raise(new RaiseAlert({ ...input, poolId: freshId<PoolId>() }), at(2))
        expect([first.created, again.created, otherPool.created]).toEqual([true, false, true])
        expect(again.alert.id).toBe(first.alert.id)
        expect(again.alert.poolId).toBe(poolId)
      }))

    it.effect("20 concurrent raises of one cause leave one open alert", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const input = yield* forService()
        const { failures, successes } = yield* race(20, (i) =>
          repo.raise(new RaiseAlert({ ...input, currentValue: 80 + i }), at(1))
        )
        expect(failures).toEqual([])
        expect(successes.filter((r) => r.created)).toHaveLength(1)
        expect(new Set(successes.map((r) => r.alert.id)).size).toBe(1)
        const stored = yield* Effect.flatMap(query(AlertFilterSpec, { service_id: input.serviceId!, cause: input.cause }), repo.search)
        expect(stored.items).toHaveLength(1)
      }))

    it.effect("acknowledge records who and when; a second acknowledge keeps the first", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const { alert } = yield* repo.raise(yield* forService(), at(1))
        const acked = yield* repo.acknowledge(alert.id, "noc-alice", at(2))
        expect(acked).toMatchObject({ id: alert.id, status: "ACKNOWLEDGED", acknowledgedBy: "noc-alice" })
        expect(DateTime.toEpochMillis(acked.acknowledgedAt!)).toBe(DateTime.toEpochMillis(at(2)))
        expect(DateTime.toEpochMillis(acked.updatedAt)).toBe(DateTime.toEpochMillis(at(2)))
        expectSame(ServiceAlert, Option.getOrThrow(yield* repo.findById(alert.id)), acked)

        const twice = yield* repo.acknowledge(alert.id, "noc-bob", at(3))
        expect(twice.acknowledgedBy).toBe("noc-alice")
        expect(DateTime.toEpochMillis(twice.acknowledgedAt!)).toBe(DateTime.toEpochMillis(at(2)))
      }))

    it.effect("an acknowledged alert is still open: raising its cause updates it", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const input = yield* forService()
        const { alert } = yield* repo.raise(input, at(1))
        yield* repo.acknowledge(alert.id, "noc", at(2))
        const again = yield* repo.raise(new RaiseAlert({ ...input, currentValue: 99 }), at(3))
        expect(again.created).toBe(false)
        expect(again.alert).toMatchObject({ id: alert.id, status: "ACKNOWLEDGED", currentValue: 99, acknowledgedBy: "noc" })
      }))

    it.effect("resolve records who, when and notes, from OPEN or ACKNOWLEDGED", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const a = (yield* repo.raise(yield* forService(), at(1))).alert
        const b = (yield* repo.raise(yield* forService(), at(1))).alert
        yield* repo.acknowledge(b.id, "noc", at(2))

        const ra = yield* repo.resolve(a.id, "noc-alice", "quota reset", at(3))
        expect(ra).toMatchObject({ status: "RESOLVED", resolvedBy: "noc-alice", resolutionNotes: "quota reset", acknowledgedBy: null })
        expect(DateTime.toEpochMillis(ra.resolvedAt!)).toBe(DateTime.toEpochMillis(at(3)))
        expect(DateTime.toEpochMillis(ra.updatedAt)).toBe(DateTime.toEpochMillis(at(3)))
        expectSame(ServiceAlert, Option.getOrThrow(yield* repo.findById(a.id)), ra)

        const rb = yield* repo.resolve(b.id, "noc-bob", null, at(4))
        expect(rb).toMatchObject({ status: "RESOLVED", resolvedBy: "noc-bob", resolutionNotes: null, acknowledgedBy: "noc" })
      }))

    it.effect("a resolved alert cannot be acknowledged or resolved again", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const { alert } = yield* repo.raise(yield* forService(), at(1))
        const resolved = yield* repo.resolve(alert.id, "noc", null, at(2))
        expect((yield* failureOf(repo.acknowledge(alert.id, "x", at(3))))._tag).toBe("AlertAlreadyResolved")
        expect((yield* failureOf(repo.resolve(alert.id, "x", "again", at(3))))._tag).toBe("AlertAlreadyResolved")
        expectSame(ServiceAlert, Option.getOrThrow(yield* repo.findById(alert.id)), resolved)
      }))

    it.effect("acknowledge and resolve of an unknown alert fail with AlertNotFound", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        expect((yield* failureOf(repo.acknowledge(freshId<AlertId>(), "x", at(1))))._tag).toBe("AlertNotFound")
        expect((yield* failureOf(repo.resolve(freshId<AlertId>(), "x", null, at(1))))._tag).toBe("AlertNotFound")
      }))

    it.effect("once resolved, the cause can be raised anew as a new alert", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const input = yield* forService()
        const first = (yield* repo.raise(input, at(1))).alert
        yield* repo.resolve(first.id, "noc", null, at(2))
        const second = yield* repo.raise(input, at(3))
        expect(second.created).toBe(true)
        expect(second.alert.id).not.toBe(first.id)
        expect(second.alert.status).toBe("OPEN")
        expect(Option.getOrThrow(yield* repo.findById(first.id)).status).toBe("RESOLVED")
        const third = yield* repo.raise(input, at(4))
        expect(third).toMatchObject({ created: false })
        expect(third.alert.id).toBe(second.alert.id)
      }))

    it.effect("search filters by service, status and severity, ordered and paged", () =>
      Effect.gen(function*() {
        const repo = yield* AlertRepository
        const base = yield* forService()
        const raised: Array<ServiceAlert> = []
        for (let i = 0; i < 5; i++) {
          const r = yield* repo.raise(
            new RaiseAlert({ ...base, cause: unique(`c${i}:`), severity: i % 2 === 0 ? "WARNING" : "CRITICAL" }),
            at(10 - i)
          )
          raised.push(r.alert)
        }
        yield* repo.resolve(raised[0]!.id, "noc", null, at(20))
        const sid = base.serviceId!

        const open = yield* Effect.flatMap(query(AlertFilterSpec, { service_id: sid, status__in: "OPEN,ACKNOWLEDGED" }), repo.search)
        expect(open.items.map((a) => a.id).sort()).toEqual(raised.slice(1).map((a) => a.id).sort())

        const critical = yield* Effect.flatMap(query(AlertFilterSpec, { service_id: sid, severity: "CRITICAL" }), repo.search)
        expect(critical.items).toHaveLength(2)

        const all = yield* collectPages(AlertFilterSpec, { service_id: sid, order_by: "created_at", limit: 2 }, repo.search)
        expect(all.pages).toBe(3)
        expect(all.items.map((a) => a.id)).toEqual([...raised].reverse().map((a) => a.id))
      }))
  })
