import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, Equal, Schema } from "effect"
import * as fc from "fast-check"
import {
  AccountingRecord,
  AccountingRecordFromInput,
  AccountingSession,
  freeRadiusUniqueSessionId,
  makeAccountingRecord,
  UsageBucket
} from "../../src/domain/Usage.js"
import * as Counters from "../../src/usage/Counters.js"
import { instance } from "../../src/usage/internal/instance.js"
import * as SessionFold from "../../src/usage/SessionFold.js"

const counter = fc.bigInt({ min: 0n, max: Counters.MAX_COUNTER })

describe("Counters", () => {
  it.prop("fold(split(x)) = x for every 64-bit counter", [counter], ([x]) => {
    const { gigawords, octets } = Counters.split(x)
    expect(octets).toBeLessThan(2 ** 32)
    expect(Counters.fold(octets, gigawords)).toEqual(Either.right(x))
  })

  it.prop(
    "gigawords fold past 4 GiB: one more gigaword is exactly 2^32 bytes more",
    [fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 2 })],
    ([octets, gw]) => {
      const a = Counters.unsafeFold(octets, gw)
      const b = Counters.unsafeFold(octets, gw + 1)
      expect(b - a).toBe(4_294_967_296n)
      expect(b > 4_294_967_295n).toBe(true)
    }
  )

  it("rejects values a 32-bit attribute cannot carry", () => {
    expect(Either.isLeft(Counters.fold(2 ** 32))).toBe(true)
    expect(Either.isLeft(Counters.fold(-1))).toBe(true)
    expect(Either.isLeft(Counters.fold(1, 1.5))).toBe(true)
    expect(Counters.fold(705_032_704, 1)).toEqual(Either.right(5_000_000_000n))
  })
})

describe("AccountingRecord", () => {
  const eventTime = DateTime.unsafeMake("2026-03-01T10:00:00Z") as DateTime.Utc

  it("computes Acct-Unique-Session-Id as FreeRADIUS's acct_unique policy does", () => {
    // md5("User-Name,Acct-Session-Id,NAS-IP-Address,NAS-Identifier,NAS-Port-Id,NAS-Port"), from md5sum.
    const r = makeAccountingRecord({
      statusType: "Start",
      acctSessionId: "8100001",
      userName: "alice",
      nasIpAddress: "192.0.2.1",
      eventTime
    })
    expect(r.acctUniqueSessionId).toBe("197da4adda9ac1ae6163ca88b23e05a1")
    const full = makeAccountingRecord({
      statusType: "Start",
      acctSessionId: "8100001",
      userName: "alice",
      nasIpAddress: "192.0.2.1",
      nasIdentifier: "bng-1",
      nasPortId: "eth0.100",
      nasPort: 7,
      eventTime
    })
    expect(full.acctUniqueSessionId).toBe("5e7e4094fe7c7035861f227111c557d1")
    expect(makeAccountingRecord({ statusType: "Start", acctSessionId: "1", acctUniqueSessionId: "nas-given", eventTime }).acctUniqueSessionId).toBe(
      "nas-given"
    )
  })

  it("decodes JSON input, computing the unique id, and folds gigawords", () => {
    const r = Schema.decodeUnknownSync(AccountingRecordFromInput)({
      statusType: "Interim-Update",
      acctSessionId: "8100001",
      userName: "alice",
      nasIpAddress: "192.0.2.1",
      inputOctets: 705_032_704,
      inputGigawords: 1,
      sessionTime: 300,
      eventTime: "2026-03-01T10:05:00Z"
    })
    expect(r).toBeInstanceOf(AccountingRecord)
    expect(r.acctUniqueSessionId).toBe("197da4adda9ac1ae6163ca88b23e05a1")
    expect(r.inputBytes).toBe(5_000_000_000n)
    expect(() => Schema.decodeUnknownSync(AccountingRecordFromInput)({ statusType: "Start", acctSessionId: "x", inputOctets: 2 ** 32, eventTime: "2026-03-01T10:05:00Z" })).toThrow()
  })

  it("encodes 64-bit byte counts as decimal strings and round-trips", () => {
    const r = makeAccountingRecord({
      statusType: "Stop",
      acctSessionId: "1",
      inputOctets: 1,
      inputGigawords: 4_000_000_000,
      sessionTime: 10,
      eventTime
    })
    const session = Either.getOrThrow(SessionFold.applyRecord(undefined, r)).session
    const json = Schema.encodeSync(AccountingSession)(session)
    expect(json.inputBytes).toBe("17179869184000000001")
    expect(JSON.parse(JSON.stringify(json)).segments[0].inputBytes).toBe("17179869184000000001")
    expect(Schema.decodeUnknownSync(AccountingSession)(JSON.parse(JSON.stringify(json))).inputBytes).toBe(17179869184000000001n)
    const bucket = Schema.decodeUnknownSync(UsageBucket)({
      serviceId: "0190f3b1-0000-7000-8000-000000000001",
      granularity: "DAY",
      periodStart: "2026-03-01T00:00:00Z",
      periodEnd: "2026-03-02T00:00:00Z",
      bytesIn: "9007199254740993",
      bytesOut: "0",
      sessionSeconds: 1
    })
    expect(bucket.bytesIn).toBe(9007199254740993n)
  })

  it.prop(
    "makeAccountingRecord's fast path builds exactly what the validating constructor builds, and rejects what it rejects",
    [
      // A valid record, then each field maybe replaced by a value of another kind (one bad field at a
      // time is what tells the two paths apart).
      fc.record({
        statusType: fc.constantFrom<unknown>("Start", "Interim-Update", "Stop", "Accounting-On", "Bogus", null),
        acctSessionId: fc.constantFrom<unknown>("s1", "", 7),
        userName: fc.constantFrom<unknown>(undefined, null, "u@isp", 3),
        nasIpAddress: fc.constantFrom<unknown>(undefined, null, "192.0.2.1", false),
        nasPort: fc.constantFrom<unknown>(undefined, null, 0, 12, -1, 1.5),
        inputOctets: fc.constantFrom<unknown>(undefined, null, 0, 4_294_967_295, 4_294_967_296, -3),
        inputGigawords: fc.constantFrom<unknown>(undefined, 0, 2, null, 2 ** 32),
        outputPackets: fc.constantFrom<unknown>(undefined, null, 5, 2 ** 40),
        sessionTime: fc.constantFrom<unknown>(undefined, null, 0, 300, -1, "300"),
        delayTime: fc.constantFrom<unknown>(undefined, null, 0, 4, -4),
        terminateCause: fc.constantFrom<unknown>(undefined, null, "User-Request", 1),
        eventTime: fc.constantFrom<unknown>(DateTime.unsafeMake(1_773_136_800_000), "2026-03-10T10:00:00Z", undefined, null),
        acctUniqueSessionId: fc.constantFrom<unknown>(undefined, null, "uniq")
      }, { requiredKeys: [] }),
      fc.integer({ min: 0, max: 12 })
    ],
    ([mutations, which]) => {
      const valid: Record<string, unknown> = {
        statusType: "Interim-Update", acctSessionId: "s1", userName: "u@isp", nasIpAddress: "192.0.2.1", nasPort: 3,
        inputOctets: 10, inputGigawords: 1, outputPackets: 2, sessionTime: 60, delayTime: 0,
        terminateCause: null, eventTime: DateTime.unsafeMake(1_773_136_800_000)
      }
      const key = Object.keys(mutations)[which % Math.max(1, Object.keys(mutations).length)]
      const input: Record<string, unknown> = key === undefined ? valid : { ...valid, [key]: mutations[key as keyof typeof mutations] }
      const attempt = <A>(f: () => A): Either.Either<A, unknown> => {
        try {
          return Either.right(f())
        } catch (e) {
          return Either.left(e)
        }
      }
      const fast = attempt(() => makeAccountingRecord(input as Parameters<typeof makeAccountingRecord>[0]))
      const id = input["acctUniqueSessionId"] ?? freeRadiusUniqueSessionId(input as Parameters<typeof freeRadiusUniqueSessionId>[0])
      const slow = attempt(() => new AccountingRecord({ ...input, acctUniqueSessionId: id } as ConstructorParameters<typeof AccountingRecord>[0]))
      expect(Either.isRight(fast)).toBe(Either.isRight(slow))
      if (Either.isRight(fast) && Either.isRight(slow)) expect(Equal.equals(fast.right, slow.right)).toBe(true)
    }
  )

  it("the fold's fast instance construction is equivalent to the Schema.Class constructor", () => {
    const r = makeAccountingRecord({ statusType: "Interim-Update", acctSessionId: "1", inputOctets: 3, sessionTime: 10, eventTime })
    const session = Either.getOrThrow(SessionFold.applyRecord(undefined, r)).session
    const props = { ...session }
    const slow = new AccountingSession(props, true)
    expect(() => new AccountingSession(props)).not.toThrow()
    const fast = instance(AccountingSession, props)
    expect(fast).toBeInstanceOf(AccountingSession)
    expect(Equal.equals(fast, slow)).toBe(true)
    expect(Schema.encodeSync(AccountingSession)(fast)).toEqual(Schema.encodeSync(AccountingSession)(slow))
    expect(Schema.is(AccountingSession)(fast)).toBe(true)
    expect(Object.keys(fast).sort()).toEqual(Object.keys(slow).sort())
  })
})
