/**
 * SqlRadiusProvisioner on the FreeRADIUS tables (PGlite, or PostgreSQL when DATABASE_URL is set):
 * writes exactly `Desired.radiusRows`, replaces instead of duplicating, keeps rows it does not own.
 * And CanonicalRouter: RouterOS spellings map to the desired ones, other values stay different.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Desired, RadiusProvisioner, type RadiusUserSpec, type ServiceId } from "@isp-framework/core"
import { Effect, Layer } from "effect"
import * as fc from "fast-check"
import { canonicalState } from "../../src/layers/CanonicalRouter.js"
import { freeradiusSchema } from "../../src/radius/FreeradiusSchema.js"
import * as SqlRadiusProvisioner from "../../src/radius/SqlRadiusProvisioner.js"
import * as TestDatabase from "../support/TestDatabase.js"

const Db = Layer.effectDiscard(Effect.orDie(freeradiusSchema)).pipe(Layer.provideMerge(TestDatabase.layer()))
const TestLayer = SqlRadiusProvisioner.layer.pipe(Layer.provideMerge(Db))

const spec = (over: Partial<RadiusUserSpec> = {}): RadiusUserSpec => ({
  serviceId: "svc-1" as ServiceId,
  customerId: "c-1",
  username: "alice@isp.net",
  password: "pw",
  framedIpAddress: "10.0.0.7",
  framedIpv6Prefix: "2001:db8:1::/64",
  delegatedIpv6Prefix: "2001:db8:ff00::/56",
  rate: { downloadKbps: 10_000, uploadKbps: 2_000 },
  suspended: "NONE",
  enabled: true,
  sessionTimeoutSeconds: 86_400,
  ...over
})

const strip = (rows: ReadonlyArray<{ attribute: string; op: string; value: string }>) =>
  [...rows].map((r) => `${r.attribute} ${r.op} ${r.value}`).sort()

describe("SqlRadiusProvisioner", () => {
  it.layer(TestLayer, { timeout: 60_000 })((it) => {
    it.effect("writes exactly the canonical rows; re-running and changing never duplicates", () =>
      Effect.gen(function*() {
        const radius = yield* RadiusProvisioner
        const sql = yield* SqlClient.SqlClient
        const first = spec()
        yield* radius.upsertUser(first)
        yield* radius.upsertUser(first)
        const stored = (yield* radius.inspectUser("alice@isp.net"))!
        const expected = Desired.radiusRows(first)
        expect(strip(stored.check)).toEqual(strip(expected.check))
        expect(strip(stored.reply)).toEqual(strip(expected.reply))
        expect(stored.groups).toEqual([])

        // An operator's own attribute survives; a FULL suspension + disable replaces ours.
        yield* sql`INSERT INTO radreply (username, attribute, op, value) VALUES ('alice@isp.net', 'Idle-Timeout', ':=', '600')`
        const suspended = spec({ suspended: "FULL", enabled: false, framedIpv6Prefix: null, delegatedIpv6Prefix: null })
        yield* radius.upsertUser(suspended)
        yield* radius.upsertUser(suspended)
        const after = (yield* radius.inspectUser("alice@isp.net"))!
        expect(strip(after.check)).toEqual(["Auth-Type := Reject", "Cleartext-Password := pw"])
        expect(strip(after.reply)).toEqual(strip([...Desired.radiusRows(suspended).reply, { attribute: "Idle-Timeout", op: ":=", value: "600" }]))
        expect(after.groups).toEqual(["suspended"])

        yield* radius.removeUser("alice@isp.net")
        expect(yield* radius.inspectUser("alice@isp.net")).toBeNull()
        yield* radius.removeUser("alice@isp.net")
      }))

    it.effect("concurrent upserts of one user leave one set of rows", () =>
      Effect.gen(function*() {
        const radius = yield* RadiusProvisioner
        yield* Effect.all(
          Array.from({ length: 10 }, (_, i) => radius.upsertUser(spec({ username: "bob@isp.net", rate: { downloadKbps: 1000 * (i + 1), uploadKbps: 500 } }))),
          { concurrency: "unbounded" }
        )
        const stored = (yield* radius.inspectUser("bob@isp.net"))!
        expect(stored.check.filter((r) => r.attribute === "Cleartext-Password")).toHaveLength(1)
        expect(stored.reply.filter((r) => r.attribute === "Mikrotik-Rate-Limit")).toHaveLength(1)
      }))
  })
})

describe("CanonicalRouter", () => {
  it.prop("RouterOS spellings of the desired queue map back to it exactly", [
    fc.integer({ min: 1, max: 10_000_000 }),
    fc.integer({ min: 1, max: 10_000_000 }),
    fc.integer({ min: 1, max: 3_600 })
  ], ([down, up, seconds]) => {
    const desired = Desired.routerObjects({
      serviceId: "svc-9" as ServiceId,
      serviceNumber: "SN-9",
      connectionType: "PPPOE",
      pppoeUsername: "u@isp.net",
      pppoePassword: "pw",
      macAddress: null,
      address: "10.1.1.1",
      rate: { downloadKbps: down, uploadKbps: up, burst: { downloadKbps: down, uploadKbps: up, thresholdDownloadKbps: down, thresholdUploadKbps: up, timeSeconds: seconds } },
      profile: null,
      suspended: "NONE"
    })
    const printed = {
      ...desired,
      queues: desired.queues.map((q) => ({
        ...q,
        ".id": "*1",
        name: `svc-${q.name}`,
        comment: `isp:${q.comment}`,
        "max-limit": `${up * 1000}/${down * 1000}`,
        "burst-limit": `${up * 1000}/${down * 1000}`,
        "burst-threshold": `${up * 1000}/${down * 1000}`,
        "burst-time": `${seconds}s/${seconds}`
      })),
      pppSecrets: desired.pppSecrets.map((s) => ({ ...s, comment: `isp:${s.comment}` }))
    }
    const canonical = canonicalState(printed)
    expect(canonical.queues[0]).toMatchObject(desired.queues[0]!)
    expect(canonical.pppSecrets).toEqual(desired.pppSecrets)
    // A different rate is still different.
    const other = canonicalState({ ...printed, queues: [{ ...printed.queues[0]!, "max-limit": `${up * 1000 + 1}/${down * 1000}` }] })
    expect(other.queues[0]!["max-limit"]).not.toBe(desired.queues[0]!["max-limit"])
  })
})
