/**
 * The behaviour every {@link ServiceRepository} must show, as one suite to run against any layer.
 *
 * @since 0.1.0
 */
import { expect } from "@effect/vitest"
import { DateTime, Effect, Layer, Option } from "effect"
import * as fc from "fast-check"
import { CustomerService } from "../domain/CustomerService.js"
import type { ServiceStatus } from "../domain/Enums.js"
import type { Conflict } from "../domain/Errors.js"
import type { CustomerId, ServiceId } from "../domain/Ids.js"
import { StatusChange } from "../domain/StatusChange.js"
import { ServiceFilterSpec } from "../filters/specs/ServiceFilterSpec.js"
import { StatusChangeFilterSpec } from "../filters/specs/StatusChangeFilterSpec.js"
import type { FilterQuery, Page } from "../filters/Ast.js"
import { cycleAnchorOf, type ServiceJson, ServiceRepository, toServiceJson } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { collectPages, type ContractOptions, expectSame, failureOf, query, race, suite } from "./ContractSupport.js"
import { arbService, baseTime, freshId, makeService, makeStatusChange, makeTemplate, unique } from "./Fixtures.js"

const at = (minutes: number) => DateTime.unsafeMake(DateTime.toEpochMillis(baseTime) + minutes * 60_000)

/**
 * A stored template to hang services on (backends may enforce the foreign key).
 *
 * @since 0.1.0
 */
export const storedTemplate = Effect.gen(function*() {
  const template = makeTemplate()
  yield* (yield* TemplateRepository).insert(template)
  return template
})

/**
 * Stores a service built from `overrides` (on a fresh stored template) with its creation row.
 *
 * @since 0.1.0
 */
export const storedService = (overrides: Parameters<typeof makeService>[0] = {}) =>
  Effect.gen(function*() {
    const template = yield* storedTemplate
    const service = makeService({ templateId: template.id, tariffId: template.tariffId, ...overrides })
    yield* (yield* ServiceRepository).insert(service, makeStatusChange(service))
    return service
  })

/** The next version of `s` with `fields` changed and `updatedAt` moved to `when`. */
const bump = (s: CustomerService, fields: Partial<CustomerService>, when = at(s.version)) =>
  new CustomerService({ ...s, ...fields, updatedAt: when, version: s.version + 1 })

const change = (prev: CustomerService, next: CustomerService, event: string) =>
  makeStatusChange(next, { previousStatus: prev.status, nextStatus: next.status, event, at: next.updatedAt })

/**
 * Declares the service repository contract as `describe(name, …)` over `layer`, which must also
 * provide a `TemplateRepository` (services reference stored templates). Tests share one store and
 * isolate themselves by fresh ids, customers and user names.
 *
 * @since 0.1.0
 */
export const serviceRepositoryContract = <E>(
  name: string,
  layer: Layer.Layer<ServiceRepository | TemplateRepository, E>,
  options?: ContractOptions
): void =>
  suite(name, layer, options, (it) => {
    it.effect("insert then findById returns the service; history holds the creation row", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const template = yield* storedTemplate
        const services = fc.sample(arbService, 25).map((s) =>
          new CustomerService({ ...s, templateId: template.id })
        )
        for (const s of services) yield* repo.insert(s, makeStatusChange(s))
        for (const s of services) {
          expectSame(CustomerService, Option.getOrThrow(yield* repo.findById(s.id)), s)
          const history = yield* repo.history(s.id)
          expect(history).toHaveLength(1)
          expectSame(StatusChange, history[0]!, makeStatusChange(s, { id: history[0]!.id }))
        }
        expect(Option.isNone(yield* repo.findById(freshId<ServiceId>()))).toBe(true)
      }))

    it.effect("a taken service number is a Conflict", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const first = yield* storedService()
        const clash = makeService({ templateId: first.templateId, serviceNumber: first.serviceNumber })
        const error = yield* failureOf(repo.insert(clash, makeStatusChange(clash)))
        expect(error._tag).toBe("Conflict")
        expect((error as Conflict).field).toBe("serviceNumber")
        expect(Option.isNone(yield* repo.findById(clash.id))).toBe(true)
        expect(yield* repo.history(clash.id)).toEqual([])
      }))

    it.effect("a PPPoE username held by a live service is a Conflict; a terminated one's is free", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const first = yield* storedService()
        const clash = makeService({ templateId: first.templateId, pppoeUsername: first.pppoeUsername })
        const error = yield* failureOf(repo.insert(clash, makeStatusChange(clash)))
        expect(error._tag).toBe("Conflict")
        expect((error as Conflict).field).toBe("pppoeUsername")

        const terminated = bump(first, { status: "TERMINATED", terminatedAt: at(5) })
        yield* repo.update(terminated, change(first, terminated, "Terminate"))
        expect(Option.isNone(yield* repo.findByUsername(first.pppoeUsername!))).toBe(true)
        yield* repo.insert(clash, makeStatusChange(clash))
        expect(Option.getOrThrow(yield* repo.findByUsername(first.pppoeUsername!)).id).toBe(clash.id)
      }))

    it.effect("services without a PPPoE username never clash on it", () =>
      Effect.gen(function*() {
        yield* storedService({ connectionType: "DHCP", pppoeUsername: null, pppoePassword: null })
        yield* storedService({ connectionType: "DHCP", pppoeUsername: null, pppoePassword: null })
      }))

    it.effect("20 concurrent inserts with one PPPoE username: exactly one wins", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const template = yield* storedTemplate
        const username = unique("race-")
        const services = Array.from({ length: 20 }, () => makeService({ templateId: template.id, pppoeUsername: username }))
        const { failures, successes } = yield* race(20, (i) => repo.insert(services[i]!, makeStatusChange(services[i]!)))
        expect(successes).toHaveLength(1)
        expect(failures.map((e) => e._tag)).toEqual(Array(19).fill("Conflict"))
        expect((yield* repo.getMany(services.map((s) => s.id))).length).toBe(1)
      }))

    it.effect("update is compare-and-set on version and appends the history row", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const s1 = yield* storedService()
        const s2 = bump(s1, { status: "ACTIVE", activatedAt: at(1) })
        yield* repo.update(s2, change(s1, s2, "ProvisioningSucceeded"))
        expectSame(CustomerService, Option.getOrThrow(yield* repo.findById(s1.id)), s2)

        // A writer that read s1 is stale now.
        const stale = bump(s1, { status: "TERMINATED" })
        const error = yield* failureOf(repo.update(stale, change(s1, stale, "Terminate")))
        expect(error._tag).toBe("ConcurrentModification")
        expectSame(CustomerService, Option.getOrThrow(yield* repo.findById(s1.id)), s2)

        // Skipping a version is refused as well.
        const skipped = new CustomerService({ ...s2, version: s2.version + 2 })
        expect((yield* failureOf(repo.update(skipped, null)))._tag).toBe("ConcurrentModification")

        // An update without a history row changes the service only.
        const s3 = bump(s2, { downloadSpeedKbps: 1_000 })
        yield* repo.update(s3, null)
        expect(Option.getOrThrow(yield* repo.findById(s1.id)).downloadSpeedKbps).toBe(1_000)

        const history = yield* repo.history(s1.id)
        expect(history.map((h) => [h.previousStatus, h.nextStatus])).toEqual([[null, "PENDING"], ["PENDING", "ACTIVE"]])
      }))

    it.effect("update of an unknown service is a ConcurrentModification", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const ghost = makeService({ version: 2 })
        expect((yield* failureOf(repo.update(ghost, null)))._tag).toBe("ConcurrentModification")
        expect(Option.isNone(yield* repo.findById(ghost.id))).toBe(true)
      }))

    it.effect("update to a PPPoE username or service number held by another live service is a Conflict", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const a = yield* storedService()
        const b = yield* storedService()
        const byUser = yield* failureOf(repo.update(bump(b, { pppoeUsername: a.pppoeUsername }), null))
        expect(byUser._tag).toBe("Conflict")
        const byNumber = yield* failureOf(repo.update(bump(b, { serviceNumber: a.serviceNumber }), null))
        expect(byNumber._tag).toBe("Conflict")
        expectSame(CustomerService, Option.getOrThrow(yield* repo.findById(b.id)), b)
        // A username change frees the old name.
        const renamed = bump(a, { pppoeUsername: unique("u-") })
        yield* repo.update(renamed, null)
        expect(Option.isNone(yield* repo.findByUsername(a.pppoeUsername!))).toBe(true)
        expect(Option.getOrThrow(yield* repo.findByUsername(renamed.pppoeUsername!)).id).toBe(a.id)
      }))

    it.effect("20 concurrent updates from one version: one succeeds, one history row", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const s1 = yield* storedService()
        const { failures, successes } = yield* race(20, (i) => {
          const next = bump(s1, { status: "ACTIVE", activatedAt: at(1), downloadSpeedKbps: 1_000 + i })
          return repo.update(next, change(s1, next, "ProvisioningSucceeded"))
        })
        expect(successes).toHaveLength(1)
        expect(failures.map((e) => e._tag)).toEqual(Array(19).fill("ConcurrentModification"))
        const stored = Option.getOrThrow(yield* repo.findById(s1.id))
        expect(stored.version).toBe(s1.version + 1)
        expect(yield* repo.history(s1.id)).toHaveLength(2)
      }))

    it.effect("history is oldest first", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        let s = yield* storedService()
        const path: Array<ServiceStatus> = ["ACTIVE", "SUSPENDED", "ACTIVE", "TERMINATED"]
        for (const status of path) {
          const next = bump(s, { status })
          yield* repo.update(next, change(s, next, status))
          s = next
        }
        const history = yield* repo.history(s.id)
        expect(history.map((h) => h.nextStatus)).toEqual(["PENDING", ...path])
        const times = history.map((h) => DateTime.toEpochMillis(h.at))
        expect(times).toEqual([...times].sort((x, y) => x - y))
      }))

    it.effect("historyOf returns the rows of every asked service, by (at, id), and nothing else", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const a = yield* storedService()
        const b = yield* storedService()
        const other = yield* storedService()
        const next = bump(a, { status: "ACTIVE" })
        yield* repo.update(next, change(a, next, "ACTIVE"))
        const rows = yield* repo.historyOf([a.id, b.id, a.id])
        expect(rows.map((h) => h.serviceId).filter((id) => id === other.id)).toEqual([])
        expect(rows.filter((h) => h.serviceId === a.id).map((h) => h.nextStatus)).toEqual(["PENDING", "ACTIVE"])
        expect(rows.filter((h) => h.serviceId === b.id)).toHaveLength(1)
        const keys = rows.map((h) => [DateTime.toEpochMillis(h.at), h.id] as const)
        expect(keys).toEqual([...keys].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0)))
        expect(yield* repo.historyOf([])).toEqual([])
      }))

    it.effect("findByUsername finds the live holder only", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const s = yield* storedService()
        expect(Option.getOrThrow(yield* repo.findByUsername(s.pppoeUsername!)).id).toBe(s.id)
        expect(Option.isNone(yield* repo.findByUsername(unique("nobody-")))).toBe(true)
      }))

    it.effect("findAccountingTargets maps the names it knows to their live holders, once each", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const a = yield* storedService()
        const b = yield* storedService()
        const names = [a.pppoeUsername!, unique("nobody-"), b.pppoeUsername!, a.pppoeUsername!]
        const targets = [...(yield* repo.findAccountingTargets(names))].sort((x, y) => (x.serviceId < y.serviceId ? -1 : 1))
        const want = [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)).map((s) => ({
          serviceId: s.id,
          customerId: s.customerId,
          templateId: s.templateId,
          pppoeUsername: s.pppoeUsername,
          anchorAt: DateTime.toEpochMillis(cycleAnchorOf(s))
        }))
        expect(targets.map((t) => ({ ...t, anchorAt: DateTime.toEpochMillis(t.anchorAt) }))).toEqual(want)
        expect(yield* repo.findAccountingTargets([])).toEqual([])
      }))

    it.effect("getMany returns the found services once each; countByCustomer counts them all", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const customerId = unique("cust-") as CustomerId
        const a = yield* storedService({ customerId })
        const b = yield* storedService({ customerId })
        const c = yield* storedService({ customerId })
        const terminated = bump(c, { status: "TERMINATED" })
        yield* repo.update(terminated, change(c, terminated, "Terminate"))
        const got = yield* repo.getMany([a.id, freshId<ServiceId>(), b.id, a.id])
        expect(got.map((s) => s.id).sort()).toEqual([a.id, b.id].sort())
        expect(yield* repo.getMany([])).toEqual([])
        expect(yield* repo.countByCustomer(customerId)).toBe(3)
        expect(yield* repo.countByCustomer(unique("cust-") as CustomerId)).toBe(0)
      }))

    it.effect("nextServiceNumber yields distinct SVC-000000-style numbers, also concurrently", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const numbers = yield* Effect.all(Array.from({ length: 50 }, () => repo.nextServiceNumber), {
          concurrency: "unbounded"
        })
        for (const n of numbers) expect(n).toMatch(/^SVC-\d{6,}$/)
        expect(new Set(numbers).size).toBe(50)
      }))

    it.effect("search filters, orders and pages through every match exactly once", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const customerId = unique("cust-") as CustomerId
        const statuses: Array<ServiceStatus> = ["ACTIVE", "PENDING", "SUSPENDED", "ACTIVE", "TERMINATED", "ACTIVE", "PENDING"]
        const stored: Array<CustomerService> = []
        for (const [i, status] of statuses.entries()) {
          stored.push(yield* storedService({ customerId, status, createdAt: at(i * 7 % 5), updatedAt: at(10) }))
        }
        yield* storedService() // another customer: never matches

        const page = yield* Effect.flatMap(
          query(ServiceFilterSpec, { customer_id: customerId, status__in: "ACTIVE,SUSPENDED", order_by: "created_at" }),
          repo.search
        )
        const expected = stored
          .filter((s) => s.status === "ACTIVE" || s.status === "SUSPENDED")
          .sort((x, y) =>
            DateTime.toEpochMillis(x.createdAt) - DateTime.toEpochMillis(y.createdAt) || (x.id < y.id ? -1 : 1)
          )
        expect(page.items.map((s) => s.id)).toEqual(expected.map((s) => s.id))
        expect(page.nextCursor).toBeNull()

        const live = yield* Effect.flatMap(
          query(ServiceFilterSpec, { customer_id: customerId, status__ne: "TERMINATED" }),
          repo.search
        )
        expect(live.items).toHaveLength(6)

        const all = yield* collectPages(ServiceFilterSpec, { customer_id: customerId, order_by: "-created_at", limit: 3 }, repo.search)
        expect(all.pages).toBe(3)
        const byNewest = [...stored].sort((x, y) =>
          DateTime.toEpochMillis(y.createdAt) - DateTime.toEpochMillis(x.createdAt) || (x.id < y.id ? -1 : 1)
        )
        expect(all.items.map((s) => s.id)).toEqual(byNewest.map((s) => s.id))
      }))

    it.effect("searchJson is search's page as JSON: the encoded services key for key, the same cursors", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const template = yield* storedTemplate
        const customerId = unique("cust-") as CustomerId
        // Text that JSON has to escape, and every datetime field set on some services.
        const odd = [null, "quote \" backslash \\ slash /", "controls \n\t\r\u0001\u001f\u007f", "é ß 😀 \u2028 中文"]
        const services = fc.sample(arbService, 14).map((s, i) =>
          new CustomerService({
            ...s,
            customerId,
            templateId: template.id,
            tariffId: template.tariffId,
            serviceNumber: unique(i % 2 === 0 ? "FX-" : "fx-"),
            location: odd[i % odd.length]!,
            circuitId: odd[(i + 1) % odd.length]!,
            requestedIp: i % 3 === 0 ? `10.0.0.${i}` : null,
            suspendedAt: i % 2 === 0 ? at(i) : null,
            contractStart: i % 3 === 0 ? at(-i * 1000) : null,
            contractEnd: i % 3 === 0 ? DateTime.unsafeMake(DateTime.toEpochMillis(at(i)) + 999) : null,
            // Shared instants, so orderings meet ties and the (value, id) cursor matters.
            createdAt: i % 4 === 0 ? at(1) : s.createdAt
          })
        )
        for (const s of services) yield* repo.insert(s, makeStatusChange(s))

        for (const order_by of ["created_at", "-updated_at", "service_number", "-id", "status,-created_at"]) {
          let cursor: string | null = null
          let pages = 0
          do {
            const dict: Record<string, unknown> = { customer_id: customerId, order_by, limit: 4 }
            const q: FilterQuery = yield* query(ServiceFilterSpec, cursor === null ? dict : { ...dict, cursor })
            const page: Page<CustomerService> = yield* repo.search(q)
            const json: Page<ServiceJson> = yield* repo.searchJson(q)
            const expected = { items: page.items.map(toServiceJson), nextCursor: page.nextCursor }
            // Compared as text: the same keys in the same order with the same values.
            expect(JSON.stringify(json)).toBe(JSON.stringify(expected))
            expect(JSON.stringify(json)).not.toContain("pppoePassword")
            cursor = json.nextCursor
            pages++
          } while (cursor !== null && pages < 10)
          expect(pages).toBe(4)
        }
      }))

    it.effect("searchHistory filters status changes across services", () =>
      Effect.gen(function*() {
        const repo = yield* ServiceRepository
        const customerId = unique("cust-") as CustomerId
        const a = yield* storedService({ customerId })
        const b = yield* storedService({ customerId })
        const a2 = bump(a, { status: "ACTIVE" })
        yield* repo.update(a2, change(a, a2, "ProvisioningSucceeded"))

        const rows = yield* collectPages(StatusChangeFilterSpec, { customer_id: customerId, limit: 1 }, repo.searchHistory)
        expect(rows.items).toHaveLength(3)
        const activations = yield* Effect.flatMap(
          query(StatusChangeFilterSpec, { customer_id: customerId, next_status: "ACTIVE" }),
          repo.searchHistory
        )
        expect(activations.items.map((h) => h.serviceId)).toEqual([a.id])
        const ofB = yield* Effect.flatMap(query(StatusChangeFilterSpec, { service_id: b.id }), repo.searchHistory)
        expect(ofB.items.map((h) => h.nextStatus)).toEqual(["PENDING"])
      }))
  })
