/**
 * The IP side of the steps, over the `IpAllocator` port: ensure the service's assignments (sticky,
 * idempotent per service), read them as {@link ServiceAddresses}, release them into quarantine.
 */
import { Effect } from "effect"
import type { CustomerService } from "../../domain/CustomerService.js"
import type { ServiceId } from "../../domain/Ids.js"
import type { Binding, IpAssignment } from "../../domain/IpPool.js"
import type { ServiceTemplate } from "../../domain/ServiceTemplate.js"
import { IpAllocator } from "../../ports/IpAllocator.js"
import type { ServiceAddresses } from "../Desired.js"

/** A step-level failure (kept structural so Steps.ts can wrap it into its tagged error). */
export interface IpFailure {
  readonly message: string
  readonly retryable: boolean
}

const bindingOf = (service: CustomerService): Binding =>
  service.connectionType === "PPPOE" && service.pppoeUsername !== null
    ? { _tag: "PPPOE", username: service.pppoeUsername }
    : service.macAddress !== null
    ? { _tag: "DHCP", macAddress: service.macAddress }
    : { _tag: "NONE" }

/** Folds live assignments into the addresses RADIUS and the router need. */
export const toAddresses = (service: CustomerService, live: ReadonlyArray<IpAssignment>): ServiceAddresses => {
  const v4 = live.find((a) => a.family === 4)
  const v6 = live.filter((a) => a.family === 6)
  const delegated = v6.find((a) => a.address.includes("/") && !a.address.endsWith("/128"))
  const single = v6.find((a) => a !== delegated)
  return {
    ipv4: v4?.address ?? service.requestedIp,
    ipv6Prefix: single === undefined ? null : single.address.includes("/") ? single.address : `${single.address}/128`,
    delegatedIpv6Prefix: delegated?.address ?? null
  }
}

const retryable = new Set(["PoolExhausted", "AddressInUse"])
const fail = (e: { readonly _tag: string; readonly message: string }): IpFailure => ({
  message: e.message,
  retryable: retryable.has(e._tag)
})

/** The IP operations of the steps, bound to the current `IpAllocator`. */
export const IpAccess = Effect.map(IpAllocator, (allocator) => {
  const addressesOf = (service: CustomerService) =>
    Effect.map(allocator.findByService(service.id), (live) => toAddresses(service, live))

  /** Allocates what the template asks for (idempotent: a held assignment is returned as is). */
  const ensure = (service: CustomerService, template: ServiceTemplate | null): Effect.Effect<ServiceAddresses, IpFailure> =>
    Effect.gen(function*() {
      const spec = template?.internet ?? null
      const binding = bindingOf(service)
      const base = { serviceId: service.id, customerId: service.customerId, binding }
      if (spec?.ipPoolId != null) {
        const poolId = spec.ipPoolId
        yield* (service.requestedIp !== null
          ? allocator.allocateStatic({ ...base, poolId, address: service.requestedIp })
          : allocator.allocate({ ...base, poolId })).pipe(Effect.mapError(fail))
      }
      if (spec !== null && spec.ipv6Enabled && spec.ipv6PoolId !== null) {
        yield* allocator.allocate({ ...base, poolId: spec.ipv6PoolId }).pipe(Effect.mapError(fail))
      }
      return yield* addressesOf(service)
    })

  const release = (serviceId: ServiceId): Effect.Effect<void, IpFailure> =>
    Effect.asVoid(allocator.release({ serviceId }).pipe(Effect.mapError(fail)))

  return { addressesOf, ensure, release } as const
})
