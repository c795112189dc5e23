/**
 * The behaviour every {@link WorkflowRepository} must show, as one suite to run against any layer.
 *
 * Time is Effect's `Clock` (the suite moves it with `TestClock`), so an adapter must compare leases
 * and `nextRunAt` with `Clock.currentTimeMillis`, not with the database's `now()`.
 *
 * @since 0.1.0
 */
import { expect } from "@effect/vitest"
import { Clock, DateTime, Effect, Layer, Option, TestClock } from "effect"
import type { WorkflowStatus } from "../domain/Enums.js"
import type { Conflict } from "../domain/Errors.js"
import type { ServiceId, WorkflowId } from "../domain/Ids.js"
import { ProvisioningWorkflow } from "../domain/Workflow.js"
import { WorkflowFilterSpec } from "../filters/specs/WorkflowFilterSpec.js"
import type { ServiceRepository } from "../ports/ServiceRepository.js"
import type { TemplateRepository } from "../ports/TemplateRepository.js"
import { WorkflowRepository } from "../ports/WorkflowRepository.js"
import { collectPages, type ContractOptions, expectSame, failureOf, query, race, suite } from "./ContractSupport.js"
import { baseTime, freshId, makeWorkflow, unique } from "./Fixtures.js"
import { storedService } from "./ServiceRepositoryContract.js"

const LEASE = 30_000

/** Now, from the Clock, as a DateTime, shifted by `offset` milliseconds. */
const now = (offset = 0) => Effect.map(Clock.currentTimeMillis, (ms) => DateTime.unsafeMake(ms + offset))

/** Creates `n` workflows for one stored service, due now unless overridden. */
const createFor = (
  n: number,
  overrides: Parameters<typeof makeWorkflow>[0] = {}
) =>
  Effect.gen(function*() {
    const repo = yield* WorkflowRepository
    const service = yield* storedService()
    const nextRunAt = yield* now()
    const out: Array<ProvisioningWorkflow> = []
    for (let i = 0; i < n; i++) {
      const w = makeWorkflow({ serviceId: service.id, customerId: service.customerId, nextRunAt, ...overrides })
      yield* repo.create(w)
      out.push(w)
    }
    return out
  })

/** Claims until nothing is due any more, returning everything claimed. */
const drain = (workerId: string) =>
  Effect.gen(function*() {
    const repo = yield* WorkflowRepository
    const out: Array<ProvisioningWorkflow> = []
    // Bounded: an adapter that ignores leases would hand the same workflows out forever.
    for (let round = 0; round < 100; round++) {
      const batch = yield* repo.claimDue({ workerId, leaseMillis: LEASE, limit: 100 })
      if (batch.length === 0) return out
      out.push(...batch)
    }
    return yield* Effect.dieMessage("claimDue keeps returning workflows that were just claimed")
  })

const ids = (ws: ReadonlyArray<ProvisioningWorkflow>) => ws.map((w) => w.id)
const mine = (ws: ReadonlyArray<ProvisioningWorkflow>, of: ReadonlyArray<ProvisioningWorkflow>) => {
  const wanted = new Set<string>(ids(of))
  return ws.filter((w) => wanted.has(w.id))
}

/**
 * Declares the workflow repository contract as `describe(name, …)` over `layer`, which must also
 * provide the service and template repositories (workflows reference stored services). Tests
 * share one store: claims may return other tests' workflows, so assertions look at their own.
 *
 * @since 0.1.0
 */
export const workflowRepositoryContract = <E>(
  name: string,
  layer: Layer.Layer<WorkflowRepository | ServiceRepository | TemplateRepository, E>,
  options?: ContractOptions
): void =>
  suite(name, layer, options, (it) => {
    it.effect("create then findById / findByIdempotencyKey return the workflow", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const key = unique("activate:")
        const [w] = yield* createFor(1, {
          idempotencyKey: key,
          input: { reason: "NON_PAYMENT", speeds: [1, 2] },
          nextRunAt: baseTime
        })
        expectSame(ProvisioningWorkflow, Option.getOrThrow(yield* repo.findById(w!.id)), w!)
        expectSame(ProvisioningWorkflow, Option.getOrThrow(yield* repo.findByIdempotencyKey(key)), w!)
        expect(Option.isNone(yield* repo.findById(freshId<WorkflowId>()))).toBe(true)
        expect(Option.isNone(yield* repo.findByIdempotencyKey(unique("none:")))).toBe(true)
      }))

    it.effect("a used idempotency key is a Conflict; workflows without a key never clash", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const key = unique("k:")
        const [w] = yield* createFor(1, { idempotencyKey: key })
        const clash = makeWorkflow({ serviceId: w!.serviceId, customerId: w!.customerId, idempotencyKey: key })
        const error = yield* failureOf(repo.create(clash))
        expect(error._tag).toBe("Conflict")
        expect((error as Conflict).field).toBe("idempotencyKey")
        expect(Option.isNone(yield* repo.findById(clash.id))).toBe(true)
        yield* createFor(3, { idempotencyKey: null })
      }))

    it.effect("20 concurrent creates with one idempotency key: exactly one wins", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const service = yield* storedService()
        const key = unique("race:")
        const ws = Array.from({ length: 20 }, () =>
          makeWorkflow({ serviceId: service.id, customerId: service.customerId, idempotencyKey: key })
        )
        const { failures, successes } = yield* race(20, (i) => repo.create(ws[i]!))
        expect(successes).toHaveLength(1)
        expect(failures.map((e) => e._tag)).toEqual(Array(19).fill("Conflict"))
        expect(yield* repo.listForService(service.id)).toHaveLength(1)
      }))

    it.effect("listForService and latestForServices", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const a = yield* storedService()
        const b = yield* storedService()
        const mk = (serviceId: ServiceId, minutes: number) =>
          makeWorkflow({
            serviceId,
            createdAt: DateTime.unsafeMake(DateTime.toEpochMillis(baseTime) + minutes * 60_000),
            status: "SUCCEEDED"
          })
        const ws = [mk(a.id, 1), mk(a.id, 3), mk(a.id, 2), mk(b.id, 5)]
        for (const w of ws) yield* repo.create(w)
        expect((yield* repo.listForService(a.id)).map((w) => w.id).sort()).toEqual([ws[0]!.id, ws[1]!.id, ws[2]!.id].sort())
        const latest = yield* repo.latestForServices([a.id, b.id, freshId<ServiceId>()])
        expect(ids(latest).sort()).toEqual([ws[1]!.id, ws[3]!.id].sort())
        expect(yield* repo.latestForServices([])).toEqual([])
        expect(yield* repo.listForService(freshId<ServiceId>())).toEqual([])
      }))

    it.effect("claimDue leases due workflows to the worker until now + lease", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const ws = yield* createFor(3)
        const t = yield* now()
        const claimed = mine(yield* drain("worker-a"), ws)
        expect(ids(claimed).sort()).toEqual(ids(ws).sort())
        for (const w of claimed) {
          expect(w.lockedBy).toBe("worker-a")
          expect(DateTime.toEpochMillis(w.lockedUntil!)).toBe(DateTime.toEpochMillis(t) + LEASE)
          const stored = Option.getOrThrow(yield* repo.findById(w.id))
          expect(stored.lockedBy).toBe("worker-a")
        }
        // Leased: nobody else gets them while the lease is live.
        yield* TestClock.adjust(LEASE - 1)
        expect(mine(yield* drain("worker-b"), ws)).toEqual([])
      }))

    it.effect("claimDue respects limit", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        yield* createFor(3)
        const batch = yield* repo.claimDue({ workerId: unique("w-"), leaseMillis: LEASE, limit: 2 })
        expect(batch.length).toBe(2)
      }))

    it.effect("claimDue skips workflows not yet due and finished ones", () =>
      Effect.gen(function*() {
        const later = yield* createFor(1, { nextRunAt: yield* now(60_000) })
        const finished: Array<ProvisioningWorkflow> = []
        for (const status of ["SUCCEEDED", "FAILED", "COMPENSATED", "REQUIRES_MANUAL"] as Array<WorkflowStatus>) {
          finished.push(...(yield* createFor(1, { status })))
        }
        const running = yield* createFor(1, { status: "RUNNING" })
        const claimed = yield* drain("worker-a")
        expect(ids(mine(claimed, [...later, ...finished, ...running]))).toEqual(ids(running))
        // nextRunAt <= now is due.
        yield* TestClock.adjust(60_000)
        expect(ids(mine(yield* drain("worker-a"), later))).toEqual(ids(later))
      }))

    it.effect("an expired lease can be taken over, and the old holder's save fails with LeaseLost", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const ws = yield* createFor(1)
        const [claimedByA] = mine(yield* drain("worker-a"), ws)
        yield* TestClock.adjust(LEASE + 1)
        const [claimedByB] = mine(yield* drain("worker-b"), ws)
        expect(claimedByB!.lockedBy).toBe("worker-b")

        const fromA = new ProvisioningWorkflow({ ...claimedByA!, status: "SUCCEEDED" })
        const lost = yield* failureOf(repo.save(fromA, "worker-a"))
        expect(lost._tag).toBe("LeaseLost")
        expect(Option.getOrThrow(yield* repo.findById(ws[0]!.id)).status).toBe("PENDING")

        const fromB = new ProvisioningWorkflow({ ...claimedByB!, status: "RUNNING", lastError: "retrying" })
        yield* repo.save(fromB, "worker-b")
        expectSame(ProvisioningWorkflow, Option.getOrThrow(yield* repo.findById(ws[0]!.id)), fromB)
      }))

    it.effect("save without a lease, with an expired lease, or of an unknown workflow fails with LeaseLost", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const [w] = yield* createFor(1, { nextRunAt: yield* now(3_600_000) })
        expect((yield* failureOf(repo.save(w!, "worker-a")))._tag).toBe("LeaseLost")
        expect((yield* failureOf(repo.save(makeWorkflow(), "worker-a")))._tag).toBe("LeaseLost")

        const [v] = yield* createFor(1)
        const [claimed] = mine(yield* drain("worker-a"), [v!])
        yield* TestClock.adjust(LEASE + 1)
        expect((yield* failureOf(repo.save(claimed!, "worker-a")))._tag).toBe("LeaseLost")
      }))

    it.effect("the holder can release its lease by saving; the workflow is then claimable again", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const ws = yield* createFor(1)
        const [claimed] = mine(yield* drain("worker-a"), ws)
        const retryAt = yield* now(1_000)
        yield* repo.save(
          new ProvisioningWorkflow({ ...claimed!, status: "RUNNING", lockedBy: null, lockedUntil: null, nextRunAt: retryAt }),
          "worker-a"
        )
        expect(mine(yield* drain("worker-b"), ws)).toEqual([])
        yield* TestClock.adjust(1_000)
        expect(ids(mine(yield* drain("worker-b"), ws))).toEqual(ids(ws))
      }))

    it.effect("10 workers claiming concurrently never share a workflow", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const ws = yield* createFor(40)
        const batches = yield* Effect.all(
          Array.from({ length: 10 }, (_, i) => repo.claimDue({ workerId: `worker-${i}`, leaseMillis: LEASE, limit: 5 })),
          { concurrency: "unbounded" }
        )
        const claimed = batches.flat()
        // No workflow at all — ours or another test's — went to two workers.
        expect(new Set(ids(claimed)).size).toBe(claimed.length)
        for (const [i, batch] of batches.entries()) {
          expect(batch.length).toBeLessThanOrEqual(5)
          for (const w of batch) expect(w.lockedBy).toBe(`worker-${i}`)
        }
        // The rest are still claimable, once.
        const rest = mine(yield* drain("worker-x"), ws)
        const ours = [...mine(claimed, ws), ...rest]
        expect(ids(ours).sort()).toEqual(ids(ws).sort())
      }))

    it.effect("search filters and pages", () =>
      Effect.gen(function*() {
        const repo = yield* WorkflowRepository
        const ws = yield* createFor(5, { status: "SUCCEEDED" })
        const serviceId = ws[0]!.serviceId
        const failed = makeWorkflow({ serviceId, customerId: ws[0]!.customerId, status: "FAILED", kind: "SUSPEND" })
        yield* repo.create(failed)
        const all = yield* collectPages(WorkflowFilterSpec, { service_id: serviceId, limit: 2 }, repo.search)
        expect(all.pages).toBe(3)
        expect(ids(all.items).sort()).toEqual([...ids(ws), failed.id].sort())
        const onlyFailed = yield* Effect.flatMap(
          query(WorkflowFilterSpec, { service_id: serviceId, status: "FAILED" }),
          repo.search
        )
        expect(ids(onlyFailed.items)).toEqual([failed.id])
      }))
  })
