/**
 * Record → service mapping of `ServiceUsage.ingest`: a batch is mapped in one pass (cached names, one
 * lookup for the rest), and every record lands on exactly the service `resolve` gives it alone —
 * User-Name first, then Calling-Station-Id MAC, then Framed-IP-Address; nothing known → unmapped.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import * as fc from "fast-check"
import { CreateService } from "../../src/domain/CustomerService.js"
import { type AccountingRecord, makeAccountingRecord } from "../../src/domain/Usage.js"
import * as MemoryUsageStore from "../../src/memory/MemoryUsageStore.js"
import { UsageStore } from "../../src/ports/UsageStore.js"
import { ServiceLifecycle } from "../../src/services/ServiceLifecycle.js"
import { ServiceUsage } from "../../src/services/ServiceUsage.js"
import { setupPlan, testLayer } from "../workflows/fixtures.js"

const layer = ServiceUsage.Default.pipe(Layer.provideMerge(MemoryUsageStore.layerAll), Layer.provideMerge(testLayer()))

const T0 = Date.parse("2026-03-10T10:00:00Z")
let sessions = 0

const record = (userName: string | null, mac: string | null, ip: string | null): AccountingRecord =>
  makeAccountingRecord({
    statusType: "Interim-Update",
    acctSessionId: `res-${++sessions}`,
    userName,
    callingStationId: mac,
    framedIpAddress: ip,
    nasIpAddress: "192.0.2.1",
    inputOctets: 1000,
    outputOctets: 2000,
    sessionTime: 60,
    eventTime: DateTime.unsafeMake(T0 + sessions * 1000) as DateTime.Utc
  })

describe("ServiceUsage.ingest maps records to services", () => {
  it.layer(layer, { timeout: 60_000 })((it) => {
    it.effect("property: a batch maps each record as resolve does one at a time", () =>
      Effect.gen(function*() {
        const lifecycle = yield* ServiceLifecycle
        const usage = yield* ServiceUsage
        const store = yield* UsageStore
        const framedIps = yield* MemoryUsageStore.MemoryFramedIps
        const { template } = yield* setupPlan({ name: "resolution" })
        const create = (fields: Record<string, unknown>) =>
          lifecycle.create(Schema.decodeUnknownSync(CreateService)({ templateId: template.id, ...fields }))
        const alice = yield* create({ customerId: "c-alice", connectionType: "PPPOE", pppoeUsername: "alice@isp", pppoePassword: "pw" })
        const bob = yield* create({ customerId: "c-bob", connectionType: "PPPOE", pppoeUsername: "bob@isp", pppoePassword: "pw" })
        const gone = yield* create({ customerId: "c-gone", connectionType: "PPPOE", pppoeUsername: "gone@isp", pppoePassword: "pw" })
        yield* lifecycle.apply(gone.id, { _tag: "ProvisioningSucceeded" })
        yield* lifecycle.apply(gone.id, { _tag: "Terminate" })
        const dhcp = yield* create({ customerId: "c-dhcp", connectionType: "DHCP", macAddress: "02:00:00:00:00:01" })
        yield* lifecycle.apply(dhcp.id, { _tag: "ProvisioningSucceeded" })
        const fixed = yield* create({ customerId: "c-ip", connectionType: "STATIC", requestedIp: "10.20.0.50" })
        yield* framedIps.register("198.51.100.7", fixed.id)

        const names = fc.constantFrom<string | null>("alice@isp", "bob@isp", "gone@isp", "nobody@isp", null, "")
        const macs = fc.constantFrom<string | null>("02-00-00-00-00-01", "0200.0000.0001", "02:00:00:00:00:99", null)
        const ips = fc.constantFrom<string | null>("198.51.100.7", "198.51.100.8", null)
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.array(fc.tuple(names, macs, ips), { minLength: 1, maxLength: 12 }), async (rows) => {
              const records = rows.map(([u, m, ip]) => record(u, m, ip))
              const expected = await Effect.runPromise(Effect.forEach(records, (r) => usage.resolve(r)))
              await Effect.runPromise(usage.ingest(records))
              for (let i = 0; i < records.length; i++) {
                const stored = Option.getOrThrow(await Effect.runPromise(store.session(records[i]!.acctUniqueSessionId)))
                expect(stored.serviceId).toBe(expected[i]?.serviceId ?? null)
              }
            }),
            { numRuns: 40 }
          )
        )
        // And the mapping is what it should be, not merely consistent.
        const [a, t, m, ip, none] = [
          record("alice@isp", null, null),
          record("gone@isp", "02:00:00:00:00:01", null),
          record("nobody@isp", "0200.0000.0001", "198.51.100.7"),
          record(null, "02:00:00:00:00:99", "198.51.100.7"),
          record("nobody@isp", null, "198.51.100.8")
        ]
        yield* usage.ingest([a!, t!, m!, ip!, none!])
        const serviceOf = (r: AccountingRecord) =>
          Effect.map(store.session(r.acctUniqueSessionId), (s) => Option.getOrThrow(s).serviceId)
        expect(yield* serviceOf(a!)).toBe(alice.id)
        expect(yield* serviceOf(t!)).toBe(dhcp.id) // the terminated holder of the name maps nothing
        expect(yield* serviceOf(m!)).toBe(dhcp.id)
        expect(yield* serviceOf(ip!)).toBe(fixed.id)
        expect(yield* serviceOf(none!)).toBe(null)
        expect(bob.id).not.toBe(alice.id)
      }))
  })
})
