/**
 * Bad input reaches callers as typed errors, never as defects: duplicate ids name the field "id",
 * malformed filter values are `InvalidFilter` before any SQL runs.
 */
import { layer } from "@effect/vitest"
import { expect } from "@effect/vitest"
import {
  type Conflict,
  CustomerService,
  FilterDict,
  ServiceQuery,
  ServiceRepository,
  TemplateRepository,
  WorkflowRepository
} from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import { Effect, Either, Exit, Layer } from "effect"
import * as PgIpAllocator from "../../src/postgres/ip/PgIpAllocator.js"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories } from "./support.js"

const Stack = ServiceQuery.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(repositories, PgIpAllocator.layer)),
  Layer.provideMerge(TestDatabase.layer())
)

const conflictOf = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.either(effect), (r) => (Either.isLeft(r) ? (r.left as unknown as Conflict) : null))

layer(Stack, { timeout: "120 seconds", excludeTestServices: true })("Postgres repositories: bad input", (it) => {
  it.effect("a taken id is a Conflict on field \"id\" for templates, services and workflows", () =>
    Effect.gen(function*() {
      const templates = yield* TemplateRepository
      const services = yield* ServiceRepository
      const workflows = yield* WorkflowRepository
      const t = Fixtures.makeTemplate()
      yield* templates.insert(t)
      const t2 = yield* conflictOf(templates.insert(Fixtures.makeTemplate({ id: t.id })))
      expect([t2?._tag, t2?.field, t2?.value]).toEqual(["Conflict", "id", t.id])

      const s = Fixtures.makeService({ templateId: t.id, tariffId: t.tariffId })
      yield* services.insert(s, Fixtures.makeStatusChange(s))
      const sameId = Fixtures.makeService({ id: s.id, templateId: t.id, tariffId: t.tariffId })
      const s2 = yield* conflictOf(services.insert(sameId, Fixtures.makeStatusChange(sameId)))
      expect([s2?._tag, s2?.field]).toEqual(["Conflict", "id"])
      const sameNumber = Fixtures.makeService({ serviceNumber: s.serviceNumber, templateId: t.id, tariffId: t.tariffId })
      const s3 = yield* conflictOf(services.insert(sameNumber, Fixtures.makeStatusChange(sameNumber)))
      expect([s3?._tag, s3?.field]).toEqual(["Conflict", "serviceNumber"])
      // Nothing of the refused services was written, history included.
      expect(yield* services.history(sameNumber.id)).toEqual([])

      const w = Fixtures.makeWorkflow({ serviceId: s.id, customerId: s.customerId })
      yield* workflows.create(w)
      const w2 = yield* conflictOf(workflows.create(Fixtures.makeWorkflow({ id: w.id, serviceId: s.id, customerId: s.customerId })))
      expect([w2?._tag, w2?.field]).toEqual(["Conflict", "id"])
    }))

  it.effect("malformed filter values are InvalidFilter, not SQL errors", () =>
    Effect.gen(function*() {
      const query = yield* ServiceQuery
      const bad: ReadonlyArray<Record<string, unknown>> = [
        { id: "not-a-uuid" },
        { template_id__in: "00000000-0000-4000-8000-000000000001,nope" },
        { created_at__gte: "2026-02-30T00:00:00Z" },
        { created_at__lt: "10000-01-01T00:00:00Z" },
        { download_speed_kbps__gt: "1e400" },
        { download_speed_kbps__gt: "99999999999999999999" },
        { customer_id: "a\u0000b" },
        { status: "ACTIVE'; DROP TABLE customer_services; --" },
        { no_such_field: 1 },
        { order_by: "location" },
        { limit: 0 },
        { cursor: "garbage" }
      ]
      for (const dict of bad) {
        const exit = yield* Effect.exit(query.search(dict))
        expect(Exit.isFailure(exit) && !Exit.isInterrupted(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          const failure = exit.cause._tag === "Fail" ? exit.cause.error : null
          expect([dict, (failure as { _tag?: string } | null)?._tag]).toSatisfy(
            ([, tag]: [unknown, string | undefined]) => tag === "InvalidFilter" || tag === "InvalidCursor"
          )
        }
      }
      // Values that look dangerous but are valid are bound as parameters and match nothing.
      const page = yield* query.search({ customer_id: "x' OR '1'='1", pppoe_username__contains: "%_\\" })
      expect(page.items).toEqual([])
      const parsed = yield* FilterDict.parse(FilterDict.ServiceFilterSpec, { service_number__icontains: "ÉA%" })
      expect((yield* (yield* ServiceRepository).search(parsed)).items).toEqual([])
    }))

  it.effect("a stale or unknown service update is ConcurrentModification", () =>
    Effect.gen(function*() {
      const services = yield* ServiceRepository
      const ghost = Fixtures.makeService({ version: 7 })
      const r = yield* Effect.either(services.update(new CustomerService({ ...ghost }), null))
      expect(Either.isLeft(r) && r.left._tag).toBe("ConcurrentModification")
    }))
})
