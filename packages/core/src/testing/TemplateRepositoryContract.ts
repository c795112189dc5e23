/**
 * The behaviour every {@link TemplateRepository} must show, as one suite to run against any layer.
 *
 * @since 0.1.0
 */
import { expect } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import * as fc from "fast-check"
import type { Conflict } from "../domain/Errors.js"
import type { TemplateId } from "../domain/Ids.js"
import { ServiceTemplate } from "../domain/ServiceTemplate.js"
import { TemplateFilterSpec } from "../filters/specs/TemplateFilterSpec.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { collectPages, type ContractOptions, expectSame, failureOf, query, race, suite } from "./ContractSupport.js"
import { arbTemplate, freshId, makeTemplate, unique } from "./Fixtures.js"

/**
 * Declares the template repository contract as `describe(name, …)` over `layer`. Tests share one
 * store and isolate themselves by fresh ids and unique names, so the store need not be empty.
 *
 * @since 0.1.0
 */
export const templateRepositoryContract = <E>(
  name: string,
  layer: Layer.Layer<TemplateRepository, E>,
  options?: ContractOptions
): void =>
  suite(name, layer, options, (it) => {
    it.effect("insert then findById returns the template, for every service type", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const templates = fc.sample(arbTemplate, 25)
        for (const t of templates) yield* repo.insert(t)
        for (const t of templates) {
          const found = yield* repo.findById(t.id)
          expect(Option.isSome(found)).toBe(true)
          expectSame(ServiceTemplate, Option.getOrThrow(found), t)
        }
      }))

    it.effect("findById of an unknown id is None", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        expect(Option.isNone(yield* repo.findById(freshId<TemplateId>()))).toBe(true)
      }))

    it.effect("a taken name is a Conflict and the stored template is untouched", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const first = makeTemplate()
        yield* repo.insert(first)
        const clash = makeTemplate({ name: first.name, displayName: "Other" })
        const error = yield* failureOf(repo.insert(clash))
        expect(error._tag).toBe("Conflict")
        expect((error as Conflict).field).toBe("name")
        expect(Option.isNone(yield* repo.findById(clash.id))).toBe(true)
        expectSame(ServiceTemplate, Option.getOrThrow(yield* repo.findById(first.id)), first)
      }))

    it.effect("a taken id is a Conflict", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const first = makeTemplate()
        yield* repo.insert(first)
        const error = yield* failureOf(repo.insert(makeTemplate({ id: first.id })))
        expect(error._tag).toBe("Conflict")
      }))

    it.effect("20 concurrent inserts of one name: exactly one wins", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const name = unique("race-")
        const candidates = Array.from({ length: 20 }, () => makeTemplate({ name }))
        const { failures, successes } = yield* race(20, (i) => repo.insert(candidates[i]!))
        expect(successes).toHaveLength(1)
        expect(failures.map((e) => e._tag)).toEqual(Array(19).fill("Conflict"))
        const stored = yield* repo.getMany(candidates.map((t) => t.id))
        expect(stored).toHaveLength(1)
      }))

    it.effect("update replaces the stored template", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const t = makeTemplate()
        yield* repo.insert(t)
        const next = new ServiceTemplate({ ...t, displayName: "Renamed", price: 49.5, isActive: false })
        yield* repo.update(next)
        expectSame(ServiceTemplate, Option.getOrThrow(yield* repo.findById(t.id)), next)
      }))

    it.effect("update to another template's name is a Conflict; keeping one's own name is fine", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const a = makeTemplate()
        const b = makeTemplate()
        yield* repo.insert(a)
        yield* repo.insert(b)
        const error = yield* failureOf(repo.update(new ServiceTemplate({ ...b, name: a.name })))
        expect(error._tag).toBe("Conflict")
        expectSame(ServiceTemplate, Option.getOrThrow(yield* repo.findById(b.id)), b)
        yield* repo.update(new ServiceTemplate({ ...a, displayName: "Same name" }))
        expect(Option.getOrThrow(yield* repo.findById(a.id)).displayName).toBe("Same name")
      }))

    it.effect("a renamed template frees its old name", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const t = makeTemplate()
        yield* repo.insert(t)
        yield* repo.update(new ServiceTemplate({ ...t, name: unique("renamed-") }))
        yield* repo.insert(makeTemplate({ name: t.name }))
      }))

    it.effect("update of an unknown id stores nothing", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const ghost = makeTemplate()
        yield* repo.update(ghost)
        expect(Option.isNone(yield* repo.findById(ghost.id))).toBe(true)
      }))

    it.effect("getMany returns the found templates once each and skips unknown ids", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const ts = [makeTemplate(), makeTemplate(), makeTemplate()]
        for (const t of ts) yield* repo.insert(t)
        const got = yield* repo.getMany([ts[0]!.id, freshId<TemplateId>(), ts[2]!.id, ts[0]!.id])
        expect(got.map((t) => t.id).sort()).toEqual([ts[0]!.id, ts[2]!.id].sort())
        expect(yield* repo.getMany([])).toEqual([])
      }))

    it.effect("search filters, orders and pages through every match exactly once", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateRepository
        const tariff = unique("tariff-")
        const prices = [30, 10, 50, 20, 40, 10, 60]
        const ts = prices.map((price, i) =>
          makeTemplate({ tariffId: tariff as ServiceTemplate["tariffId"], price, isActive: i % 2 === 0 })
        )
        for (const t of ts) yield* repo.insert(t)
        yield* repo.insert(makeTemplate()) // another tariff: never matches

        const active = yield* Effect.flatMap(query(TemplateFilterSpec, { tariff_id: tariff, is_active: true }), repo.search)
        expect(active.items.map((t) => t.id).sort()).toEqual(ts.filter((t) => t.isActive).map((t) => t.id).sort())
        expect(active.nextCursor).toBeNull()

        const cheap = yield* Effect.flatMap(
          query(TemplateFilterSpec, { tariff_id: tariff, price__lte: 20, order_by: "-price" }),
          repo.search
        )
        expect(cheap.items.map((t) => t.price)).toEqual([20, 10, 10])
        // Equal prices are ordered by id ascending.
        const tens = ts.filter((t) => t.price === 10).map((t) => t.id).sort()
        expect(cheap.items.slice(1).map((t) => t.id)).toEqual(tens)

        const all = yield* collectPages(TemplateFilterSpec, { tariff_id: tariff, order_by: "price", limit: 2 }, repo.search)
        expect(all.pages).toBe(4)
        expect(all.items.map((t) => t.price)).toEqual([...prices].sort((a, b) => a - b))
        expect(new Set(all.items.map((t) => t.id)).size).toBe(prices.length)
      }))
  })
