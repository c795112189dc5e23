/**
 * 64-bit accounting counters. RADIUS carries octet counts in 32-bit attributes that wrap at 4 GiB;
 * Acct-Input/Output-Gigawords (RFC 2869) count the wraps. The true counter is
 * `octets + gigawords × 2^32`, which we keep as a `bigint` — a JS number would silently round
 * above 2^53 bytes (8 PiB), and a 32-bit column is the classic "usage resets at 4 GB" bug.
 *
 * @since 0.1.0
 */
import { Either } from "effect"
import { InvalidCounter } from "../domain/Usage.js"

/** 2^32: the modulus of Acct-*-Octets. */
export const GIGAWORD = 4_294_967_296n

/** The largest value a (gigawords, octets) pair can express: 2^64 − 1. */
export const MAX_COUNTER = GIGAWORD * GIGAWORD - 1n

const isUint32 = (n: number) => Number.isInteger(n) && n >= 0 && n < 4_294_967_296

/**
 * Folds an octet count and its gigawords into one 64-bit counter. Fails with `InvalidCounter`
 * when either is not an unsigned 32-bit integer (the attribute could not have carried it).
 */
export const fold = (octets: number, gigawords = 0): Either.Either<bigint, InvalidCounter> =>
  !isUint32(octets)
    ? Either.left(new InvalidCounter({ field: "octets", value: String(octets) }))
    : !isUint32(gigawords)
      ? Either.left(new InvalidCounter({ field: "gigawords", value: String(gigawords) }))
      : Either.right(BigInt(gigawords) * GIGAWORD + BigInt(octets))

/** {@link fold} for values already validated (e.g. by the AccountingRecord schema). */
export const unsafeFold = (octets: number, gigawords = 0): bigint => BigInt(gigawords) * GIGAWORD + BigInt(octets)

/** Splits a 64-bit counter back into the (octets, gigawords) attribute pair a NAS would send. */
export const split = (bytes: bigint): { readonly octets: number; readonly gigawords: number } => {
  if (bytes < 0n || bytes > MAX_COUNTER) throw new RangeError(`counter out of range: ${bytes}`)
  return { octets: Number(bytes % GIGAWORD), gigawords: Number(bytes / GIGAWORD) }
}

/** The larger of two counters. */
export const max = (a: bigint, b: bigint): bigint => (a >= b ? a : b)

/** The smaller of two counters. */
export const min = (a: bigint, b: bigint): bigint => (a <= b ? a : b)
