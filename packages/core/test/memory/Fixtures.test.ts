import { describe, expect, it } from "@effect/vitest"
import { CustomerService, ServiceAlert, ServiceTemplate } from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import { Schema } from "effect"

const roundTrips = <A, I>(schema: Schema.Schema<A, I>, value: A) => {
  const json = JSON.parse(JSON.stringify(Schema.encodeSync(schema)(value)))
  expect(Schema.encodeSync(schema)(Schema.decodeUnknownSync(schema)(json))).toStrictEqual(Schema.encodeSync(schema)(value))
}

describe("Fixtures", () => {
  it("builders give fresh ids and unique values on every call", () => {
    const [a, b] = [Fixtures.makeService(), Fixtures.makeService()]
    expect(a.id).not.toBe(b.id)
    expect(a.serviceNumber).not.toBe(b.serviceNumber)
    expect(a.pppoeUsername).not.toBe(b.pppoeUsername)
    expect(Fixtures.makeTemplate().name).not.toBe(Fixtures.makeTemplate().name)
  })

  it("makeTemplate fills the part that the service type needs", () => {
    expect(Fixtures.makeTemplate({ serviceType: "VOICE" }).voice).not.toBeNull()
    expect(Fixtures.makeTemplate({ serviceType: "BUNDLE" }).bundle?.childTemplateIds).toHaveLength(1)
    expect(Fixtures.makeTemplate({ serviceType: "RECURRING" }).recurring).not.toBeNull()
    expect(Fixtures.makeTemplate().internet?.downloadSpeedKbps).toBe(50_000)
  })

  it.prop("arbTemplate values survive a JSON round trip", [Fixtures.arbTemplate], ([t]) => roundTrips(ServiceTemplate, t))
  it.prop("arbService values survive a JSON round trip", [Fixtures.arbService], ([s]) => roundTrips(CustomerService, s))
  it.prop("arbAlert values survive a JSON round trip", [Fixtures.arbAlert], ([a]) => roundTrips(ServiceAlert, a))
})
