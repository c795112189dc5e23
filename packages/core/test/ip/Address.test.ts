import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import {
  contains,
  formatAddress,
  formatCidr,
  lastOf,
  maskOf,
  overlaps,
  parseAddress,
  parseCidr
} from "../../src/ip/Address.js"

const v4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n })
const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })
const family = fc.constantFrom(4 as const, 6 as const)
const addressOf = (f: 4 | 6) => (f === 4 ? v4 : v6)
const cidrArb = family.chain((f) =>
  fc.record({ family: fc.constant(f), value: addressOf(f), prefix: fc.integer({ min: 0, max: f === 4 ? 32 : 128 }) })
)

describe("Address", () => {
  it.prop("formats and parses back every IPv4 and IPv6 value", [family.chain((f) => fc.tuple(fc.constant(f), addressOf(f)))], ([[f, value]]) => {
    const text = formatAddress(f, value)
    expect(Either.getOrThrow(parseAddress(text, f))).toEqual({ family: f, value })
    expect(Either.isLeft(parseAddress(text, f === 4 ? 6 : 4))).toBe(true)
  })

  it.prop("never throws on arbitrary input, only returns typed errors", [fc.string(), fc.string()], ([a, b]) => {
    for (const text of [a, `${a}/${b}`, `${a}:${b}`]) {
      const address = parseAddress(text)
      if (Either.isLeft(address)) expect(address.left._tag).toBe("InvalidAddress")
      const cidr = parseCidr(text)
      if (Either.isLeft(cidr)) expect(cidr.left._tag).toBe("InvalidCidr")
    }
  })

  it.prop("parseCidr clears host bits; the result is canonical and contains the input address", [cidrArb], ([c]) => {
    const text = `${formatAddress(c.family, c.value)}/${c.prefix}`
    const parsed = Either.getOrThrow(parseCidr(text))
    expect(parsed.network).toBe(c.value & maskOf(c.family, c.prefix))
    expect(Either.getOrThrow(parseCidr(formatCidr(parsed)))).toEqual(parsed)
    expect(contains(parsed, c.family, c.value)).toBe(true)
    expect(lastOf(parsed) >= c.value).toBe(true)
  })

  it.prop("overlap is symmetric and means one network contains the other", [cidrArb, cidrArb], ([x, y]) => {
    const a = Either.getOrThrow(parseCidr(`${formatAddress(x.family, x.value)}/${x.prefix}`))
    const b = Either.getOrThrow(parseCidr(`${formatAddress(y.family, y.value)}/${y.prefix}`))
    expect(overlaps(a, b)).toBe(overlaps(b, a))
    expect(overlaps(a, b)).toBe(contains(a, b.family, b.network) || contains(b, a.family, a.network))
  })

  it("rejects legacy and malformed forms", () => {
    for (const bad of ["10.1", "010.0.0.1x", "0x0a.0.0.1", "1.2.3.4 ", "fe80::1%eth0", "", "1.2.3.256", ":::"]) {
      expect(Either.isLeft(parseAddress(bad)), bad).toBe(true)
    }
    for (const bad of ["10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8", "::/129", "x/24"]) {
      expect(Either.isLeft(parseCidr(bad)), bad).toBe(true)
    }
    expect(formatCidr(Either.getOrThrow(parseCidr("10.10.1.7/22")))).toBe("10.10.0.0/22")
    expect(formatCidr(Either.getOrThrow(parseCidr("2001:DB8:0:0:1::1/40")))).toBe("2001:db8::/40")
  })
})
