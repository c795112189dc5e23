/**
 * The wire decoder of Accounting-Requests gives the record the `radius` package's dictionary decoder
 * gives, for any mix of the attributes NASes send (and rejects what it rejects: a wrong secret, an
 * unhandled status type, a malformed attribute the record reads).
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import radius from "radius"
import * as AccountingRequest from "../../src/radius/AccountingRequest.js"
import { RadiusCodecError } from "../../src/radius/RadiusCodec.js"

const SECRET = "s3cret"
const NOW = Date.parse("2026-03-10T10:00:00Z")

const text = fc.string({ minLength: 1, maxLength: 24 })
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."))
const u32 = fc.nat()

// Each optional attribute present or not; the status type may be one the ingest does not handle.
const attributesArb = fc.record({
  status: fc.constantFrom("Start", "Interim-Update", "Stop", "Accounting-On", "Accounting-Off", "Failed"),
  optional: fc.record({
    "User-Name": text,
    "Acct-Session-Id": text,
    "NAS-IP-Address": ipv4,
    "NAS-Identifier": text,
    "NAS-Port-Id": text,
    "NAS-Port": u32,
    "Framed-IP-Address": ipv4,
    "Calling-Station-Id": text,
    "Acct-Input-Octets": u32,
    "Acct-Output-Octets": u32,
    "Acct-Input-Gigawords": fc.nat(16),
    "Acct-Output-Gigawords": fc.nat(16),
    "Acct-Input-Packets": u32,
    "Acct-Output-Packets": u32,
    "Acct-Session-Time": u32,
    "Acct-Delay-Time": fc.nat(600),
    "Event-Timestamp": fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }).map((s) => new Date(s * 1000)),
    "Acct-Terminate-Cause": fc.constantFrom("User-Request", "Lost-Carrier", "NAS-Reboot"),
    "NAS-Port-Type": fc.constantFrom("Virtual", "Ethernet"),
    "Service-Type": fc.constant("Framed-User")
  }, { requiredKeys: [] }),
  secret: fc.constantFrom(SECRET, SECRET, SECRET, "wrong")
})

const encode = (status: string, optional: Record<string, unknown>, secret: string) =>
  radius.encode({
    code: "Accounting-Request",
    secret,
    identifier: 7,
    attributes: [["Acct-Status-Type", status], ...Object.entries(optional)] as Array<[string, any]>
  })

/** The outcome of a decoder: the record, or the kind of rejection. */
const outcome = (decode: () => unknown) => {
  try {
    return { record: decode() }
  } catch (e) {
    expect(e).toBeInstanceOf(RadiusCodecError)
    return { rejected: /Authenticator mismatch/.test((e as Error).message) ? "authenticator" : "other" }
  }
}

describe("AccountingRequest.decode", () => {
  it.prop("gives the generic decoder's record or rejection, for any attributes", [attributesArb], ([a]) => {
    const packet = encode(a.status, a.optional, a.secret)
    expect(outcome(() => AccountingRequest.decode(packet, SECRET, NOW)))
      .toEqual(outcome(() => AccountingRequest.decodeGeneric(packet, SECRET, NOW)))
  }, { fastCheck: { numRuns: 500 } })

  it("reads the common interim straight off the wire, and rejects a tampered one", () => {
    const packet = encode("Interim-Update", {
      "User-Name": "alice@isp",
      "Acct-Session-Id": "81600001",
      "NAS-IP-Address": "192.0.2.1",
      "Acct-Input-Octets": 5,
      "Acct-Input-Gigawords": 1,
      "Acct-Output-Octets": 7,
      "Acct-Session-Time": 300,
      "Event-Timestamp": new Date(NOW - 60_000),
      "NAS-Port-Type": "Virtual"
    }, SECRET)
    const r = AccountingRequest.decode(packet, SECRET, NOW)
    expect([r.statusType, r.userName, r.inputBytes, r.outputBytes, r.eventTime.epochMillis]).toEqual([
      "Interim-Update", "alice@isp", 4_294_967_296n + 5n, 7n, NOW - 60_000
    ])
    const tampered = Buffer.from(packet)
    tampered[tampered.length - 1] ^= 1
    expect(() => AccountingRequest.decode(tampered, SECRET, NOW)).toThrow(/Authenticator mismatch/)
    // A read attribute with a bad length is malformed for both decoders.
    const short = Buffer.from(packet)
    const at = short.indexOf(Buffer.from([42, 6])) // Acct-Input-Octets
    short[at + 1] = 3
    expect(() => AccountingRequest.decode(short, SECRET, NOW)).toThrow(RadiusCodecError)
  })
})
