import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import { formatAddress } from "../../src/ip/Address.js"
import * as PoolSpace from "../../src/ip/PoolSpace.js"

const base = 0x0a000000n // 10.0.0.0
const addr = (offset: number) => formatAddress(4, base + BigInt(offset))

/** A small IPv4 pool with random gateway and exclusions, plus the brute-force list of usable slots. */
const smallPool = fc.integer({ min: 24, max: 32 }).chain((prefix) => {
  const size = 2 ** (32 - prefix)
  const offset = fc.integer({ min: 0, max: size - 1 })
  return fc.record({
    prefix: fc.constant(prefix),
    gateway: fc.option(offset, { nil: null }),
    excluded: fc.array(offset, { maxLength: 6 }),
    ranges: fc.array(fc.tuple(offset, offset).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const), { maxLength: 3 }),
    blockSize: fc.integer({ min: 1, max: 64 })
  })
})

const brute = (p: { prefix: number; gateway: number | null; excluded: Array<number>; ranges: ReadonlyArray<readonly [number, number]> }) => {
  const size = 2 ** (32 - p.prefix)
  const out: Array<bigint> = []
  for (let i = 0; i < size; i++) {
    if (p.prefix <= 30 && (i === 0 || i === size - 1)) continue
    if (i === p.gateway || p.excluded.includes(i) || p.ranges.some(([a, b]) => i >= a && i <= b)) continue
    out.push(BigInt(i))
  }
  return out
}

const compile = (p: { prefix: number; gateway: number | null; excluded: Array<number>; ranges: ReadonlyArray<readonly [number, number]> }) =>
  Either.getOrThrow(PoolSpace.compile({
    cidr: `10.0.0.0/${p.prefix}`,
    gateway: p.gateway === null ? null : addr(p.gateway),
    excludedAddresses: p.excluded.map(addr),
    excludedRanges: p.ranges.map(([a, b]) => ({ start: addr(a), end: addr(b) })),
    delegatedPrefixLength: null
  }))

describe("PoolSpace", () => {
  it.prop("blocks partition exactly the usable slots; counts and look-ups agree with brute force", [smallPool], ([p]) => {
    const space = compile(p)
    const expected = brute(p)
    const fromBlocks: Array<bigint> = []
    const blocks = PoolSpace.blockCount(space, p.blockSize)
    for (let k = 0n; k < blocks; k++) {
      const slots = PoolSpace.blockSlots(space, k, p.blockSize)
      for (const s of slots) expect(s / BigInt(p.blockSize)).toBe(k)
      fromBlocks.push(...slots)
      // The next non-empty block from k is the first block >= k with a usable slot.
      const firstUsable = expected.find((s) => s / BigInt(p.blockSize) >= k)
      expect(PoolSpace.nextNonEmptyBlock(space, k, p.blockSize)).toBe(
        firstUsable === undefined ? null : firstUsable / BigInt(p.blockSize)
      )
    }
    expect(fromBlocks).toEqual(expected)
    expect(PoolSpace.usableCount(space)).toBe(BigInt(expected.length))
    for (let s = 0n; s < space.slotCount; s++) {
      expect(PoolSpace.isUsable(space, s)).toBe(expected.includes(s))
      expect(PoolSpace.nextUsable(space, s)).toBe(expected.find((e) => e >= s) ?? null)
    }
  })

  it.prop("slotOf inverts formatSlot for usable slots and rejects the rest", [smallPool], ([p]) => {
    const space = compile(p)
    for (let s = 0n; s < space.slotCount; s++) {
      const r = PoolSpace.slotOf(space, "pool", PoolSpace.formatSlot(space, s))
      if (PoolSpace.isUsable(space, s)) expect(Either.getOrThrow(r)).toBe(s)
      else expect(Either.isLeft(r) && r.left._tag).toBe("AddressOutsidePool")
    }
    expect(Either.isLeft(PoolSpace.slotOf(space, "pool", "11.0.0.1"))).toBe(true)
  })

  it.prop("the n-th /56 of a /40 is aligned, inside the pool and maps back to n", [fc.bigInt({ min: 0n, max: 65535n })], ([n]) => {
    const space = Either.getOrThrow(PoolSpace.compile({
      cidr: "2001:db8:100::/40",
      gateway: null,
      excludedAddresses: [],
      excludedRanges: [],
      delegatedPrefixLength: 56
    }))
    const prefix = PoolSpace.nth(space, n)
    expect(prefix.endsWith("/56")).toBe(true)
    expect(Either.getOrThrow(PoolSpace.slotOf(space, "p", prefix))).toBe(n)
    expect(PoolSpace.slotValue(space, n) & ((1n << 72n) - 1n)).toBe(0n)
    expect(PoolSpace.slotValue(space, n) >> 88n).toBe(space.cidr.network >> 88n)
  })

  it("IPv4 edge rules: /31 uses both addresses, /32 its one, /30 two hosts", () => {
    const count = (cidr: string) =>
      PoolSpace.usableCount(Either.getOrThrow(PoolSpace.compile({
        cidr,
        gateway: null,
        excludedAddresses: [],
        excludedRanges: [],
        delegatedPrefixLength: null
      })))
    expect(count("10.0.0.0/31")).toBe(2n)
    expect(count("10.0.0.7/32")).toBe(1n)
    expect(count("10.0.0.0/30")).toBe(2n)
    expect(count("10.0.0.0/8")).toBe(16777214n)
    expect(count("2001:db8::/64")).toBe((1n << 64n) - 1n)
  })

  it("rejects invalid configurations", () => {
    const tag = (spec: Partial<PoolSpace.PoolSpec>) => {
      const r = PoolSpace.compile({
        cidr: "10.0.0.0/24",
        gateway: null,
        excludedAddresses: [],
        excludedRanges: [],
        delegatedPrefixLength: null,
        ...spec
      })
      return Either.isLeft(r) ? r.left._tag : "ok"
    }
    expect(tag({ gateway: "10.0.1.1" })).toBe("InvalidAddress")
    expect(tag({ excludedRanges: [{ start: "10.0.0.9", end: "10.0.0.3" }] })).toBe("InvalidAddress")
    expect(tag({ excludedAddresses: ["2001:db8::1"] })).toBe("InvalidAddress")
    expect(tag({ delegatedPrefixLength: 31 })).toBe("InvalidCidr")
    expect(tag({ cidr: "2001:db8::/40", delegatedPrefixLength: 36 })).toBe("InvalidCidr")
    expect(tag({ cidr: "2001:db8::/40", delegatedPrefixLength: 129 })).toBe("InvalidCidr")
    expect(tag({ cidr: "2001:db8::/40", delegatedPrefixLength: 56 })).toBe("ok")
  })
})
