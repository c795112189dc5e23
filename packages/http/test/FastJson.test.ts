/**
 * The compiled list encoder writes exactly what the Schema encoder writes, for any service.
 */
import { expect, it } from "@effect/vitest"
import { CustomerService } from "@isp-framework/core"
import { Arbitrary, Schema } from "effect"
import { ServiceItem, ServiceView } from "../src/Api.js"
import { compileStructEncoder } from "../src/internal/fastJson.js"

const fast = compileStructEncoder(ServiceView.fields)
const viaSchema = Schema.encodeSync(ServiceItem)

it.prop("fast service JSON = Schema-encoded ServiceItem JSON", [Arbitrary.make(CustomerService)], ([service]) => {
  expect(JSON.stringify(fast(service))).toEqual(JSON.stringify(viaSchema(service)))
  expect(JSON.stringify(fast(service))).not.toContain("pppoePassword")
}, { fastCheck: { numRuns: 300 } })

it("a property signature cannot be compiled (callers keep the Schema path)", () => {
  expect(() => compileStructEncoder(Schema.Struct({ a: Schema.optional(Schema.String) }).fields)).toThrow()
})
