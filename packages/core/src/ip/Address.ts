/**
 * Pure address arithmetic over `ipaddr.js`: strict parsing (ipaddr.js throws and accepts legacy
 * IPv4 forms such as "10.1"; we return typed errors and accept only dotted quads), bigint
 * conversion in both families, and CIDR normalisation (ipaddr.js keeps host bits).
 *
 * @since 0.1.0
 */
import { Either } from "effect"
import ipaddr from "ipaddr.js"
import { InvalidAddress, InvalidCidr } from "../domain/IpPool.js"

/** 4 or 6. */
export type Family = 4 | 6

/** A parsed address: its family and its value as an unsigned integer. */
export interface Address {
  readonly family: Family
  readonly value: bigint
}

/** A parsed, normalised CIDR: host bits cleared. */
export interface Cidr {
  readonly family: Family
  readonly network: bigint
  readonly prefixLength: number
}

/** 32 or 128. */
export const bitsOf = (family: Family): number => (family === 4 ? 32 : 128)

const bytesToBigInt = (bytes: ReadonlyArray<number>): bigint => {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

const bigIntToBytes = (value: bigint, length: number): Array<number> => {
  const out = new Array<number>(length)
  let n = value
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

/** The largest value of the family (all ones). */
export const maxValue = (family: Family): bigint => (1n << BigInt(bitsOf(family))) - 1n

/**
 * Parses one address. IPv4 must be a dotted quad; IPv6 any RFC 4291 text form without a zone id.
 * With `family`, an address of the other family is an `InvalidAddress`.
 */
export const parseAddress = (text: string, family?: Family): Either.Either<Address, InvalidAddress> => {
  const fail = (reason: string) => Either.left(new InvalidAddress({ address: text, reason }))
  if (typeof text !== "string" || text.length === 0 || text.length > 64 || text.trim() !== text) {
    return fail("expected an IPv4 or IPv6 address")
  }
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) parsed = ipaddr.IPv4.parse(text)
  else if (text.includes(":") && ipaddr.IPv6.isValid(text)) parsed = ipaddr.IPv6.parse(text)
  else return fail("expected an IPv4 dotted quad or an IPv6 address")
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).zoneId !== undefined) return fail("zone ids are not allowed")
  const f: Family = parsed.kind() === "ipv4" ? 4 : 6
  if (family !== undefined && f !== family) return fail(`expected an IPv${family} address`)
  return Either.right({ family: f, value: bytesToBigInt(parsed.toByteArray()) })
}

/** Formats an address: dotted quad, or RFC 5952 (the canonical, compressed lower-case IPv6 form). */
export const formatAddress = (family: Family, value: bigint): string => {
  if (value < 0n || value > maxValue(family)) throw new RangeError(`value out of range for IPv${family}`)
  if (family === 4) return bigIntToBytes(value, 4).join(".")
  return (ipaddr.fromByteArray(bigIntToBytes(value, 16)) as ipaddr.IPv6).toRFC5952String()
}

/** The netmask of a prefix length as a bigint. */
export const maskOf = (family: Family, prefixLength: number): bigint => {
  const hostBits = BigInt(bitsOf(family) - prefixLength)
  return maxValue(family) ^ ((1n << hostBits) - 1n)
}

/** The last address of a CIDR (the broadcast address in IPv4). */
export const lastOf = (cidr: Cidr): bigint => cidr.network | (maxValue(cidr.family) ^ maskOf(cidr.family, cidr.prefixLength))

/** Number of addresses in a CIDR. */
export const sizeOf = (cidr: Cidr): bigint => 1n << BigInt(bitsOf(cidr.family) - cidr.prefixLength)

/**
 * Parses "address/length" and clears host bits ("10.10.1.7/22" -> 10.10.0.0/22). A bare address is
 * not a CIDR (an explicit length avoids accidental single-address pools).
 */
export const parseCidr = (text: string, family?: Family): Either.Either<Cidr, InvalidCidr> => {
  const fail = (reason: string) => Either.left(new InvalidCidr({ cidr: String(text), reason }))
  if (typeof text !== "string") return fail("expected a string")
  const slash = text.indexOf("/")
  if (slash < 0 || slash !== text.lastIndexOf("/")) return fail("expected address/prefix-length")
  const lengthText = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lengthText)) return fail("prefix length must be a number")
  const address = parseAddress(text.slice(0, slash), family)
  if (Either.isLeft(address)) return fail(address.left.reason)
  const { family: f, value } = address.right
  const prefixLength = Number(lengthText)
  if (prefixLength > bitsOf(f)) return fail(`prefix length must be at most ${bitsOf(f)}`)
  return Either.right({ family: f, network: value & maskOf(f, prefixLength), prefixLength })
}

/** "network/length" in canonical form. */
export const formatCidr = (cidr: Cidr): string => `${formatAddress(cidr.family, cidr.network)}/${cidr.prefixLength}`

/** True when `value` lies inside `cidr`. */
export const contains = (cidr: Cidr, family: Family, value: bigint): boolean =>
  family === cidr.family && (value & maskOf(cidr.family, cidr.prefixLength)) === cidr.network

/** True when two CIDRs share at least one address (CIDRs either nest or are disjoint). */
export const overlaps = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.network <= lastOf(b) && b.network <= lastOf(a)
