/**
 * IP pools and assignments. A pool is an IPv4 CIDR handing out single addresses, or an IPv6 CIDR
 * delegating prefixes (e.g. a /56 per customer out of a /40) or single /128 addresses. Released
 * addresses sit in a per-pool quarantine before anyone else may take them.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { BindingType, IpAssignmentType, IpFamily } from "./Enums.js"
import { AssignmentId, CustomerId, PoolId, RouterId, ServiceId } from "./Ids.js"

/** An inclusive range of addresses excluded from allocation (e.g. a block kept for infrastructure). */
export const AddressRange = Schema.Struct({ start: Schema.String, end: Schema.String })
export type AddressRange = typeof AddressRange.Type

/**
 * A pool as stored. `cidr` is normalised (host bits cleared); `delegatedPrefixLength` is the size of
 * what one assignment receives: 32 for IPv4, 48..128 for IPv6 (128 = single addresses).
 */
export class IpPool extends Schema.Class<IpPool>("IpPool")({
  id: PoolId,
  name: Schema.String,
  family: IpFamily,
  cidr: Schema.String,
  gateway: Schema.NullOr(Schema.String),
  dnsServers: Schema.Array(Schema.String),
  excludedAddresses: Schema.Array(Schema.String),
  excludedRanges: Schema.Array(AddressRange),
  delegatedPrefixLength: Schema.Int,
  /** How long a released address waits before anyone else may take it. */
  quarantineSeconds: Schema.NonNegativeInt,
  routerId: Schema.NullOr(RouterId),
  region: Schema.NullOr(Schema.String),
  createdAt: Schema.DateTimeUtc
}) {}

/** Input of `IpAllocator.createPool`; omitted fields take their defaults. */
export const NewIpPool = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)),
  cidr: Schema.String,
  gateway: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  dnsServers: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  excludedAddresses: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  excludedRanges: Schema.optionalWith(Schema.Array(AddressRange), { default: () => [] }),
  /** IPv6: 48..128, size of what one assignment gets (default 128: single addresses). IPv4: 32 or omitted. */
  delegatedPrefixLength: Schema.optionalWith(Schema.NullOr(Schema.Int), { default: () => null }),
  quarantineSeconds: Schema.optionalWith(Schema.NonNegativeInt, { default: () => 300 }),
  routerId: Schema.optionalWith(Schema.NullOr(RouterId), { default: () => null }),
  region: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})
export type NewIpPool = typeof NewIpPool.Type
/** What a caller may pass to `createPool` (defaults not yet applied). */
export type NewIpPoolInput = typeof NewIpPool.Encoded

/**
 * One address (IPv4, IPv6 /128: "10.0.0.7", "2001:db8::7") or delegated prefix ("2001:db8:100::/56")
 * held by a service. Live while `releasedAt` is null. `customerId` is kept on the row so the table can
 * be distributed by customer later.
 */
export class IpAssignment extends Schema.Class<IpAssignment>("IpAssignment")({
  id: AssignmentId,
  serviceId: ServiceId,
  customerId: CustomerId,
  poolId: PoolId,
  address: Schema.String,
  family: IpFamily,
  assignmentType: IpAssignmentType,
  bindingType: BindingType,
  /** DHCP binding: the client's MAC (lower-case colon form). */
  macAddress: Schema.NullOr(Schema.String),
  /** PPPoE binding: the RADIUS user name. */
  username: Schema.NullOr(Schema.String),
  gateway: Schema.NullOr(Schema.String),
  dnsServers: Schema.Array(Schema.String),
  assignedAt: Schema.DateTimeUtc,
  releasedAt: Schema.NullOr(Schema.DateTimeUtc),
  quarantineUntil: Schema.NullOr(Schema.DateTimeUtc)
}) {}

/** How an address is bound on the access network. */
export const Binding = Schema.Union(
  Schema.TaggedStruct("DHCP", { macAddress: Schema.String }),
  Schema.TaggedStruct("PPPOE", { username: Schema.String }),
  Schema.TaggedStruct("NONE", {})
)
export type Binding = typeof Binding.Type

/** Counts for one pool (bigint: an IPv6 pool of single addresses holds 2^64 and more). */
export class PoolUtilisation extends Schema.Class<PoolUtilisation>("PoolUtilisation")({
  poolId: PoolId,
  /** Assignable addresses/prefixes (exclusions, network, broadcast and gateway already removed). */
  total: Schema.BigInt,
  assigned: Schema.BigInt,
  quarantined: Schema.BigInt,
  free: Schema.BigInt,
  /** assigned / total, 0..100. */
  percentUsed: Schema.Number
}) {
  /** Derives `free` and `percentUsed` from the three counts. */
  static fromCounts(poolId: PoolId, total: bigint, assigned: bigint, quarantined: bigint): PoolUtilisation {
    return PoolUtilisation.make({
      poolId,
      total,
      assigned,
      quarantined,
      free: total - assigned - quarantined,
      percentUsed: total === 0n ? 100 : Number((assigned * 10000n) / total) / 100
    })
  }
}

/** A CIDR that does not parse or does not fit the pool's rules. */
export class InvalidCidr extends Schema.TaggedError<InvalidCidr>()(
  "InvalidCidr",
  { cidr: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `Invalid CIDR ${JSON.stringify(this.cidr)}: ${this.reason}`
  }
}

/** An address (or range bound) that does not parse, or of the wrong family. */
export class InvalidAddress extends Schema.TaggedError<InvalidAddress>()(
  "InvalidAddress",
  { address: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `Invalid address ${JSON.stringify(this.address)}: ${this.reason}`
  }
}

/** The new pool's CIDR overlaps an existing pool. */
export class PoolOverlap extends Schema.TaggedError<PoolOverlap>()(
  "PoolOverlap",
  { cidr: Schema.String, existingPoolId: Schema.String, existingCidr: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `${this.cidr} overlaps pool ${this.existingPoolId} (${this.existingCidr})`
  }
}

/** A requested address that is not an assignable member of the pool (outside, excluded, gateway, ...). */
export class AddressOutsidePool extends Schema.TaggedError<AddressOutsidePool>()(
  "AddressOutsidePool",
  { poolId: Schema.String, address: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `${this.address} is not an assignable address of pool ${this.poolId}`
  }
}

/** A requested address that is assigned to another service, or still in quarantine. */
export class AddressInUse extends Schema.TaggedError<AddressInUse>()(
  "AddressInUse",
  { poolId: Schema.String, address: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `${this.address} in pool ${this.poolId} is in use or in quarantine`
  }
}

/** No assignable address is free in the pool (quarantined ones do not count). */
export class PoolExhausted extends Schema.TaggedError<PoolExhausted>()(
  "PoolExhausted",
  { poolId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `IP pool ${this.poolId} is exhausted`
  }
}

export class PoolNotFound extends Schema.TaggedError<PoolNotFound>()(
  "PoolNotFound",
  { poolId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `IP pool ${this.poolId} not found`
  }
}

export class AssignmentNotFound extends Schema.TaggedError<AssignmentNotFound>()(
  "AssignmentNotFound",
  { assignmentId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `IP assignment ${this.assignmentId} not found`
  }
}
