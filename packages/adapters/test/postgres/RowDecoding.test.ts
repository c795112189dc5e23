/**
 * The fast search-page decoder builds exactly what the Schema decoder builds, for random services
 * read back from the database (so the driver's own value types are what both see).
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { CustomerService, ServiceRepository, TemplateRepository } from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import { Effect, Layer, Schema } from "effect"
import * as fc from "fast-check"
import { decodeRow } from "../../src/postgres/internal/rows.js"
import { decodeServiceFast } from "../../src/postgres/PgServiceRepository.js"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories } from "./support.js"

layer(repositories.pipe(Layer.provideMerge(TestDatabase.layerPglite())), { timeout: "120 seconds" })("row decoding", (it) => {
  it.effect("decodeServiceFast agrees with the CustomerService Schema on stored rows", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const services = yield* ServiceRepository
      const template = Fixtures.makeTemplate()
      yield* (yield* TemplateRepository).insert(template)
      const samples = fc.sample(Fixtures.arbService, 200).map((s) =>
        new CustomerService({ ...s, templateId: template.id, tariffId: template.tariffId })
      )
      for (const s of samples) yield* services.insert(s, Fixtures.makeStatusChange(s))
      const rows = yield* sql<Record<string, unknown>>`SELECT * FROM customer_services WHERE template_id = ${template.id}`
      expect(rows).toHaveLength(samples.length)
      const slow = decodeRow(CustomerService)
      const encode = Schema.encodeSync(CustomerService)
      for (const row of rows) {
        const fast = decodeServiceFast(row)
        expect(fast).toBeInstanceOf(CustomerService)
        expect(encode(fast)).toStrictEqual(encode(slow(row)))
      }
    }))
})
