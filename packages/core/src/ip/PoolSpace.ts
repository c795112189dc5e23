/**
 * A pool's address space as numbered "slots": slot n is the n-th address (IPv4, IPv6 /128) or the
 * n-th delegated prefix (IPv6, e.g. the n-th /56 of a /40). Exclusions (network, broadcast, gateway,
 * configured addresses and ranges) are merged slot intervals, so every question here costs
 * O(number of exclusions), never O(pool size): that is what lets adapters materialise free
 * addresses lazily, one block of slots at a time.
 *
 * @since 0.1.0
 */
import { Either } from "effect"
import type { AddressRange } from "../domain/IpPool.js"
import { AddressOutsidePool, InvalidAddress, InvalidCidr } from "../domain/IpPool.js"
import type { Cidr, Family } from "./Address.js"
import { bitsOf, contains, formatAddress, formatCidr, parseAddress, parseCidr } from "./Address.js"

/** The configuration fields that shape a pool's space. */
export interface PoolSpec {
  readonly cidr: string
  readonly gateway: string | null
  readonly excludedAddresses: ReadonlyArray<string>
  readonly excludedRanges: ReadonlyArray<AddressRange>
  /** 32 for IPv4; 48..128 for IPv6 (null: 32 / 128). */
  readonly delegatedPrefixLength: number | null
}

/** A compiled pool space. */
export interface PoolSpace {
  readonly cidr: Cidr
  readonly family: Family
  /** Prefix length of what one slot is (32 / 128 for single addresses). */
  readonly unitPrefixLength: number
  readonly unitBits: bigint
  readonly slotCount: bigint
  /** Sorted, merged, inclusive slot intervals that are never handed out. */
  readonly excluded: ReadonlyArray<readonly [bigint, bigint]>
}

/** Smallest IPv6 delegated prefix length we accept (a /48 per customer is the largest customary). */
export const MIN_V6_DELEGATED = 48

const mergeIntervals = (intervals: Array<readonly [bigint, bigint]>): Array<readonly [bigint, bigint]> => {
  const sorted = intervals.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const out: Array<[bigint, bigint]> = []
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi
    } else out.push([lo, hi])
  }
  return out
}

/**
 * Validates a pool's configuration and compiles its space. IPv4 rules: network and broadcast are
 * excluded for /30 and larger; a /31 uses both addresses (RFC 3021); a /32 is one address. IPv6
 * single-address pools exclude the subnet-router anycast address (slot 0, RFC 4291).
 */
export const compile = (spec: PoolSpec): Either.Either<PoolSpace, InvalidCidr | InvalidAddress> =>
  Either.gen(function*() {
    const cidr = yield* parseCidr(spec.cidr)
    const family = cidr.family
    const bits = bitsOf(family)
    const text = formatCidr(cidr)
    let unit = spec.delegatedPrefixLength ?? bits
    if (family === 4 && unit !== 32) {
      return yield* Either.left(new InvalidCidr({ cidr: text, reason: "IPv4 pools hand out single addresses (/32)" }))
    }
    if (family === 6 && (!Number.isInteger(unit) || unit < MIN_V6_DELEGATED || unit > 128 || unit < cidr.prefixLength)) {
      return yield* Either.left(
        new InvalidCidr({
          cidr: text,
          reason: `delegated prefix length must be between max(${MIN_V6_DELEGATED}, ${cidr.prefixLength}) and 128`
        })
      )
    }
    unit = Math.trunc(unit)
    const unitBits = BigInt(bits - unit)
    const slotCount = 1n << BigInt(unit - cidr.prefixLength)
    const slotOfValue = (value: bigint) => (value - cidr.network) >> unitBits
    const member = (address: string) =>
      Either.flatMap(parseAddress(address, family), (a) =>
        contains(cidr, family, a.value)
          ? Either.right(a.value)
          : Either.left(new InvalidAddress({ address, reason: `outside ${text}` })))

    const excluded: Array<readonly [bigint, bigint]> = []
    if (family === 4 && cidr.prefixLength <= 30) excluded.push([0n, 0n], [slotCount - 1n, slotCount - 1n])
    if (family === 6 && unit === 128 && cidr.prefixLength <= 126) excluded.push([0n, 0n])
    if (spec.gateway !== null) {
      const g = slotOfValue(yield* member(spec.gateway))
      excluded.push([g, g])
    }
    for (const address of spec.excludedAddresses) {
      const s = slotOfValue(yield* member(address))
      excluded.push([s, s])
    }
    for (const range of spec.excludedRanges) {
      const start = yield* member(range.start)
      const end = yield* member(range.end)
      if (end < start) {
        return yield* Either.left(new InvalidAddress({ address: range.end, reason: `range ends before ${range.start}` }))
      }
      excluded.push([slotOfValue(start), slotOfValue(end)])
    }
    return { cidr, family, unitPrefixLength: unit, unitBits, slotCount, excluded: mergeIntervals(excluded) }
  })

/** The first address of a slot. */
export const slotValue = (space: PoolSpace, slot: bigint): bigint => space.cidr.network + (slot << space.unitBits)

/** What a slot is handed out as: "10.0.0.7", "2001:db8::7" or "2001:db8:100::/56". */
export const formatSlot = (space: PoolSpace, slot: bigint): string => {
  const address = formatAddress(space.family, slotValue(space, slot))
  return space.unitBits === 0n ? address : `${address}/${space.unitPrefixLength}`
}

/** The n-th delegated prefix (or address) of the pool, counting from 0, exclusions ignored. */
export const nth = formatSlot

/** True when the slot exists and is not excluded. */
export const isUsable = (space: PoolSpace, slot: bigint): boolean => {
  if (slot < 0n || slot >= space.slotCount) return false
  for (const [lo, hi] of space.excluded) {
    if (slot < lo) return true
    if (slot <= hi) return false
  }
  return true
}

/**
 * The slot of a requested address or prefix: "10.0.0.7", or for a delegating IPv6 pool the prefix
 * "2001:db8:100::/56" (or any address inside it). Fails when it is not an assignable member.
 */
export const slotOf = (
  space: PoolSpace,
  poolId: string,
  text: string
): Either.Either<bigint, InvalidAddress | AddressOutsidePool> =>
  Either.gen(function*() {
    let value: bigint
    if (text.includes("/")) {
      const c = yield* Either.mapLeft(
        parseCidr(text, space.family),
        (e) => new InvalidAddress({ address: text, reason: e.reason })
      )
      if (c.prefixLength !== space.unitPrefixLength) {
        return yield* Either.left(new AddressOutsidePool({ poolId, address: text }))
      }
      value = c.network
    } else {
      value = (yield* parseAddress(text, space.family)).value
    }
    const slot = (value - space.cidr.network) >> space.unitBits
    if (!contains(space.cidr, space.family, value) || !isUsable(space, slot)) {
      return yield* Either.left(new AddressOutsidePool({ poolId, address: text }))
    }
    return slot
  })

/** Number of assignable slots: all slots minus the exclusions. */
export const usableCount = (space: PoolSpace): bigint => {
  let n = space.slotCount
  for (const [lo, hi] of space.excluded) {
    const l = lo < 0n ? 0n : lo
    const h = hi >= space.slotCount ? space.slotCount - 1n : hi
    if (h >= l) n -= h - l + 1n
  }
  return n
}

/** Default number of slots materialised at a time. */
export const DEFAULT_BLOCK_SIZE = 256

/** Number of blocks of `blockSize` slots the pool spans. */
export const blockCount = (space: PoolSpace, blockSize: number = DEFAULT_BLOCK_SIZE): bigint =>
  (space.slotCount + BigInt(blockSize) - 1n) / BigInt(blockSize)

/**
 * The usable slots of block `k` (slots `k*B .. k*B+B-1`) in ascending order. Blocks are disjoint and
 * together hold exactly the usable slots. Cost O(B + exclusions).
 */
export const blockSlots = (space: PoolSpace, k: bigint, blockSize: number = DEFAULT_BLOCK_SIZE): Array<bigint> => {
  const B = BigInt(blockSize)
  const start = k * B
  const end = start + B > space.slotCount ? space.slotCount : start + B
  const out: Array<bigint> = []
  let i = 0
  const ex = space.excluded
  for (let s = start; s < end; s++) {
    while (i < ex.length && ex[i]![1] < s) i++
    const cur = ex[i]
    if (cur !== undefined && s >= cur[0]) {
      s = cur[1] // skip the whole excluded interval
      continue
    }
    out.push(s)
  }
  return out
}

/** The first block index >= k that holds at least one usable slot, or null when none is left. */
export const nextNonEmptyBlock = (
  space: PoolSpace,
  k: bigint,
  blockSize: number = DEFAULT_BLOCK_SIZE
): bigint | null => {
  const B = BigInt(blockSize)
  const blocks = blockCount(space, blockSize)
  let b = k
  while (b < blocks) {
    const start = b * B
    // Merged intervals are never adjacent, so the slot after an exclusion is usable.
    const cover = space.excluded.find(([lo, hi]) => lo <= start && hi >= start)
    if (cover === undefined) return b
    const after = cover[1] + 1n
    if (after >= space.slotCount) return null
    if (after < start + B) return b
    b = after / B
  }
  return null
}

/** The first usable slot >= `from`, or null. Skips exclusions in one step each. */
export const nextUsable = (space: PoolSpace, from: bigint): bigint | null => {
  let s = from < 0n ? 0n : from
  for (const [lo, hi] of space.excluded) {
    if (s < lo) break
    if (s <= hi) s = hi + 1n
  }
  return s < space.slotCount ? s : null
}
