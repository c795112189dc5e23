/**
 * The IP allocator port: pools, dynamic / sticky / static allocation, release into quarantine and
 * utilisation. Implementations: `MemoryIpAllocator` (core) and the PostgreSQL one (adapters), both
 * held to one contract suite.
 *
 * Guarantees every implementation gives:
 * - an address (or prefix) is held by at most one live assignment, under any concurrency;
 * - `allocate` is idempotent per (pool, service): a service that already holds a live assignment in
 *   the pool gets that one back, so a re-run provisioning step never takes a second address;
 * - sticky: a service (or DHCP MAC) gets its previous address back when nobody else holds it, even
 *   during its own quarantine;
 * - `PoolExhausted` only when no assignable address is free (quarantined ones are not free).
 *
 * @since 0.1.0
 */
import { Context } from "effect"
import type { Effect } from "effect"
import type { Conflict, ValidationError } from "../domain/Errors.js"
import type { AssignmentId, CustomerId, PoolId, ServiceId } from "../domain/Ids.js"
import type {
  AddressInUse,
  AddressOutsidePool,
  AssignmentNotFound,
  Binding,
  InvalidAddress,
  InvalidCidr,
  IpAssignment,
  IpPool,
  NewIpPoolInput,
  PoolExhausted,
  PoolNotFound,
  PoolOverlap,
  PoolUtilisation
} from "../domain/IpPool.js"

/** A dynamic allocation request. */
export interface AllocateRequest {
  readonly poolId: PoolId
  readonly serviceId: ServiceId
  readonly customerId: CustomerId
  /** DHCP (MAC), PPPoE (user name) or NONE; default NONE. */
  readonly binding?: Binding | undefined
  /**
   * Give back the previous address of this service (or of the DHCP binding's MAC) when nobody else
   * holds it. Default true.
   */
  readonly sticky?: boolean | undefined
}

/** A request for one particular address (or delegated prefix) of the pool. */
export interface AllocateStaticRequest {
  readonly poolId: PoolId
  readonly serviceId: ServiceId
  readonly customerId: CustomerId
  /** "10.0.0.7", "2001:db8::7" or, for a delegating IPv6 pool, "2001:db8:100::/56". */
  readonly address: string
  readonly binding?: Binding | undefined
  /** STATIC (default) or RESERVED. */
  readonly assignmentType?: "STATIC" | "RESERVED" | undefined
}

/** What to release: one assignment, or every live assignment of a service (optionally in one pool). */
export type ReleaseTarget =
  | { readonly assignmentId: AssignmentId }
  | { readonly serviceId: ServiceId; readonly poolId?: PoolId | undefined }

export interface IpAllocator {
  /** Validates and stores a pool. Its CIDR may not overlap another pool's. */
  readonly createPool: (
    input: NewIpPoolInput
  ) => Effect.Effect<IpPool, InvalidCidr | InvalidAddress | PoolOverlap | ValidationError>
  readonly getPool: (poolId: PoolId) => Effect.Effect<IpPool, PoolNotFound>
  /** All pools, ordered by CIDR (IPv4 first). */
  readonly listPools: () => Effect.Effect<ReadonlyArray<IpPool>>
  /** Takes a free address (sticky first); returns the service's live one if it already holds one. */
  readonly allocate: (request: AllocateRequest) => Effect.Effect<IpAssignment, PoolNotFound | PoolExhausted>
  /**
   * Takes the requested address. Idempotent when the service already holds exactly that address;
   * `Conflict` when it holds another one in this pool.
   */
  readonly allocateStatic: (
    request: AllocateStaticRequest
  ) => Effect.Effect<
    IpAssignment,
    PoolNotFound | InvalidAddress | AddressOutsidePool | AddressInUse | Conflict
  >
  /**
   * Releases into the pool's quarantine and returns the released rows. Releasing an already released
   * assignment returns it unchanged; a service with nothing live releases nothing.
   */
  readonly release: (target: ReleaseTarget) => Effect.Effect<ReadonlyArray<IpAssignment>, AssignmentNotFound>
  readonly utilisation: (poolId: PoolId) => Effect.Effect<PoolUtilisation, PoolNotFound>
  /** The service's live assignments, all pools. */
  readonly findByService: (serviceId: ServiceId) => Effect.Effect<ReadonlyArray<IpAssignment>>
  /** Live assignments of many services in one lookup (for `include=ip_assignments`). */
  readonly findByServices: (serviceIds: ReadonlyArray<ServiceId>) => Effect.Effect<ReadonlyArray<IpAssignment>>
}

/** The IP allocator service. */
export const IpAllocator = Context.GenericTag<IpAllocator>("@isp-framework/core/IpAllocator")
