/**
 * Turns `createPool` input into a stored {@link IpPool}: decodes defaults, validates the CIDR and every
 * address against it, and normalises all address text (so "10.0.0.7/24" is stored as "10.0.0.0/24").
 * Shared by every `IpAllocator` implementation so they accept and reject exactly the same input.
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Either, ParseResult, Schema } from "effect"
import { ValidationError } from "../domain/Errors.js"
import type { PoolId } from "../domain/Ids.js"
import type { InvalidAddress, InvalidCidr } from "../domain/IpPool.js"
import { IpPool, NewIpPool, type NewIpPoolInput } from "../domain/IpPool.js"
import { formatAddress, formatCidr, parseAddress } from "./Address.js"
import { compile, type PoolSpace } from "./PoolSpace.js"

const normaliseAddress = (text: string): string => {
  const a = Either.getOrThrow(parseAddress(text))
  return formatAddress(a.family, a.value)
}

/** Validates input and builds the pool (not yet stored) with its compiled space. */
export const buildPool = (
  input: NewIpPoolInput,
  id: PoolId,
  now: DateTime.Utc
): Effect.Effect<{ readonly pool: IpPool; readonly space: PoolSpace }, InvalidCidr | InvalidAddress | ValidationError> =>
  Effect.gen(function*() {
    const spec = yield* Schema.decodeUnknown(NewIpPool)(input).pipe(
      Effect.mapError((e) => new ValidationError({ field: "pool", reason: ParseResult.TreeFormatter.formatErrorSync(e) }))
    )
    const space = yield* compile(spec)
    for (const dns of spec.dnsServers) yield* parseAddress(dns)
    const pool = IpPool.make({
      id,
      name: spec.name,
      family: space.family,
      cidr: formatCidr(space.cidr),
      gateway: spec.gateway === null ? null : normaliseAddress(spec.gateway),
      dnsServers: spec.dnsServers.map(normaliseAddress),
      excludedAddresses: spec.excludedAddresses.map(normaliseAddress),
      excludedRanges: spec.excludedRanges.map((r) => ({ start: normaliseAddress(r.start), end: normaliseAddress(r.end) })),
      delegatedPrefixLength: space.unitPrefixLength,
      quarantineSeconds: spec.quarantineSeconds,
      routerId: spec.routerId,
      region: spec.region,
      createdAt: now
    })
    return { pool, space }
  })

/** Compiles a stored pool's space (stored pools were validated on creation). */
export const spaceOf = (pool: IpPool): PoolSpace => Either.getOrThrow(compile(pool))
