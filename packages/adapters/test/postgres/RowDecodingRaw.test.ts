/**
 * Search pages read `customer_services` without the client's name transforms: the snake_case fast
 * decoder builds exactly what the Schema decoder builds from the transformed row.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { CustomerService, FilterDict, ServiceRepository, TemplateRepository } from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import { Effect, Layer, Schema } from "effect"
import * as fc from "fast-check"
import { decodeRow } from "../../src/postgres/internal/rows.js"
import { decodeServiceRowFast } from "../../src/postgres/PgServiceRepository.js"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories } from "./support.js"

layer(repositories.pipe(Layer.provideMerge(TestDatabase.layerPglite())), { timeout: "120 seconds" })("raw row decoding", (it) => {
  it.effect("decodeServiceRowFast(raw row) = Schema decode(transformed row), and search returns those", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const services = yield* ServiceRepository
      const template = Fixtures.makeTemplate()
      yield* (yield* TemplateRepository).insert(template)
      const samples = fc.sample(Fixtures.arbService, 150).map((s) =>
        new CustomerService({ ...s, templateId: template.id, tariffId: template.tariffId })
      )
      for (const s of samples) yield* services.insert(s, Fixtures.makeStatusChange(s))
      const transformed = yield* sql<Record<string, unknown>>`SELECT * FROM customer_services WHERE template_id = ${template.id} ORDER BY id`
      const raw = yield* sql.withoutTransforms()<Record<string, unknown>>`SELECT * FROM customer_services WHERE template_id = ${template.id} ORDER BY id`
      expect(raw).toHaveLength(samples.length)
      expect(Object.keys(raw[0]!)).toContain("created_at")
      const slow = decodeRow(CustomerService)
      const encode = Schema.encodeSync(CustomerService)
      for (let i = 0; i < raw.length; i++) {
        const fast = decodeServiceRowFast(raw[i]!)
        const reference = slow(transformed[i]!)
        expect(fast).toBeInstanceOf(CustomerService)
        expect(Object.keys(fast)).toEqual(Object.keys(reference))
        expect(encode(fast)).toStrictEqual(encode(reference))
      }
      // Through the repository: a page of the same services, equal to what was stored.
      const query = yield* FilterDict.parse(FilterDict.ServiceFilterSpec, { template_id: template.id, limit: 500 })
      const page = yield* services.search(query)
      const byId = new Map(samples.map((s) => [s.id, s]))
      expect(page.items).toHaveLength(samples.length)
      for (const item of page.items) expect(encode(item)).toStrictEqual(encode(byId.get(item.id)!))
    }))
})
