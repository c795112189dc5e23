/**
 * In-memory {@link IpAllocator}. Every operation runs inside one `SynchronizedRef.modifyEffect`, so
 * concurrent fibers see each check-and-take as a single step: no address is handed out twice and
 * exhaustion is reported only when nothing is free. Free addresses are found lazily with a per-pool
 * cursor over the pool's slots (plus the released ones), so a /8 or an IPv6 pool costs nothing up
 * front, as in the PostgreSQL adapter.
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Layer, SynchronizedRef } from "effect"
import { Conflict } from "../domain/Errors.js"
import type { AssignmentId, PoolId, ServiceId } from "../domain/Ids.js"
import {
  AddressInUse,
  AssignmentNotFound,
  type Binding,
  IpAssignment,
  type IpPool,
  type NewIpPoolInput,
  PoolExhausted,
  PoolNotFound,
  PoolOverlap,
  PoolUtilisation
} from "../domain/IpPool.js"
import { overlaps } from "../ip/Address.js"
import { buildPool } from "../ip/PoolConfig.js"
import { formatSlot, nextUsable, type PoolSpace, slotOf, usableCount } from "../ip/PoolSpace.js"
import { newId } from "../internal/uuid.js"
import {
  type AllocateRequest,
  type AllocateStaticRequest,
  IpAllocator,
  type ReleaseTarget
} from "../ports/IpAllocator.js"

interface PoolState {
  readonly pool: IpPool
  readonly space: PoolSpace
  /** Every slot below the cursor has been handed out at least once (or is excluded). */
  cursor: bigint | null
  /** Live slots -> assignment id. */
  readonly live: Map<bigint, AssignmentId>
  /** Released slots -> when they leave quarantine (epoch ms); insertion order = release order. */
  readonly released: Map<bigint, number>
}

interface State {
  readonly pools: Map<PoolId, PoolState>
  readonly assignments: Map<AssignmentId, { readonly row: IpAssignment; readonly slot: bigint }>
}

const bindingFields = (binding: Binding | undefined) => ({
  bindingType: binding?._tag ?? "NONE",
  macAddress: binding?._tag === "DHCP" ? binding.macAddress.toLowerCase() : null,
  username: binding?._tag === "PPPOE" ? binding.username : null
})

/**
 * Builds a fresh, empty allocator.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<IpAllocator> = Effect.gen(function*() {
  const ref = yield* SynchronizedRef.make<State>({ pools: new Map(), assignments: new Map() })

  const poolState = (state: State, poolId: PoolId) => {
    const p = state.pools.get(poolId)
    return p === undefined ? Effect.fail(new PoolNotFound({ poolId })) : Effect.succeed(p)
  }

  const liveOf = (state: State, poolId: PoolId, serviceId: ServiceId) => {
    for (const a of state.assignments.values()) {
      if (a.row.poolId === poolId && a.row.serviceId === serviceId && a.row.releasedAt === null) return a
    }
    return undefined
  }

  const createPool = Effect.fn("IpAllocator.createPool")(function*(input: NewIpPoolInput) {
    const id = yield* newId<PoolId>()
    const now = yield* DateTime.now
    const { pool, space } = yield* buildPool(input, id, now)
    return yield* SynchronizedRef.modifyEffect(ref, (state) => {
      for (const other of state.pools.values()) {
        if (overlaps(other.space.cidr, space.cidr)) {
          return Effect.fail(new PoolOverlap({ cidr: pool.cidr, existingPoolId: other.pool.id, existingCidr: other.pool.cidr }))
        }
      }
      state.pools.set(id, { pool, space, cursor: nextUsable(space, 0n), live: new Map(), released: new Map() })
      return Effect.succeed([pool, state] as const)
    })
  })

  const getPool = Effect.fn("IpAllocator.getPool")(function*(poolId: PoolId) {
    const state = yield* SynchronizedRef.get(ref)
    return (yield* poolState(state, poolId)).pool
  })

  const listPools = Effect.fn("IpAllocator.listPools")(function*() {
    const state = yield* SynchronizedRef.get(ref)
    return [...state.pools.values()]
      .sort((a, b) =>
        a.space.family - b.space.family ||
        (a.space.cidr.network < b.space.cidr.network ? -1 : a.space.cidr.network > b.space.cidr.network ? 1 : 0)
      )
      .map((p) => p.pool)
  })

  const take = (
    state: State,
    p: PoolState,
    slot: bigint,
    id: AssignmentId,
    now: DateTime.Utc,
    request: { readonly serviceId: ServiceId; readonly customerId: IpAssignment["customerId"]; readonly binding?: Binding | undefined },
    assignmentType: IpAssignment["assignmentType"]
  ): IpAssignment => {
    const row = IpAssignment.make({
      id,
      serviceId: request.serviceId,
      customerId: request.customerId,
      poolId: p.pool.id,
      address: formatSlot(p.space, slot),
      family: p.pool.family,
      assignmentType,
      ...bindingFields(request.binding),
      gateway: p.pool.gateway,
      dnsServers: p.pool.dnsServers,
      assignedAt: now,
      releasedAt: null,
      quarantineUntil: null
    })
    p.released.delete(slot)
    p.live.set(slot, id)
    state.assignments.set(id, { row, slot })
    return row
  }

  const allocate = Effect.fn("IpAllocator.allocate")(function*(request: AllocateRequest) {
    const id = yield* newId<AssignmentId>()
    const now = yield* DateTime.now
    const nowMs = DateTime.toEpochMillis(now)
    return yield* SynchronizedRef.modifyEffect(ref, (state) =>
      Effect.gen(function*() {
        const p = yield* poolState(state, request.poolId)
        const existing = liveOf(state, request.poolId, request.serviceId)
        if (existing !== undefined) return [existing.row, state] as const
        const assign = (slot: bigint) => [take(state, p, slot, id, now, request, "DYNAMIC"), state] as const

        // Sticky: the newest earlier assignment of this service or MAC whose slot nobody holds.
        if (request.sticky !== false) {
          const mac = request.binding?._tag === "DHCP" ? request.binding.macAddress.toLowerCase() : null
          let best: { readonly row: IpAssignment; readonly slot: bigint } | undefined
          for (const a of state.assignments.values()) {
            if (a.row.poolId !== p.pool.id || a.row.releasedAt === null) continue
            if (a.row.serviceId !== request.serviceId && (mac === null || a.row.macAddress !== mac)) continue
            if (best === undefined || DateTime.greaterThan(a.row.releasedAt, best.row.releasedAt!)) best = a
          }
          if (best !== undefined && !p.live.has(best.slot)) return assign(best.slot)
        }
        // Never-used slots first (longest possible rest for released ones), then released ones.
        while (p.cursor !== null) {
          const slot = p.cursor
          p.cursor = nextUsable(p.space, slot + 1n)
          if (!p.live.has(slot) && !p.released.has(slot)) return assign(slot)
        }
        let oldest: bigint | undefined
        let oldestAt = Infinity
        for (const [slot, at] of p.released) {
          if (at <= nowMs && at < oldestAt) {
            oldest = slot
            oldestAt = at
          }
        }
        if (oldest !== undefined) return assign(oldest)
        return yield* new PoolExhausted({ poolId: p.pool.id })
      }))
  })

  const allocateStatic = Effect.fn("IpAllocator.allocateStatic")(function*(request: AllocateStaticRequest) {
    const id = yield* newId<AssignmentId>()
    const now = yield* DateTime.now
    const nowMs = DateTime.toEpochMillis(now)
    return yield* SynchronizedRef.modifyEffect(ref, (state) =>
      Effect.gen(function*() {
        const p = yield* poolState(state, request.poolId)
        const slot = yield* slotOf(p.space, p.pool.id, request.address)
        const address = formatSlot(p.space, slot)
        const existing = liveOf(state, request.poolId, request.serviceId)
        if (existing !== undefined) {
          if (existing.slot === slot) return [existing.row, state] as const
          return yield* new Conflict({ field: "serviceId", value: request.serviceId })
        }
        if (p.live.has(slot)) return yield* new AddressInUse({ poolId: p.pool.id, address })
        const until = p.released.get(slot)
        if (until !== undefined && until > nowMs) {
          // In quarantine: only its previous holder may take it back.
          let lastHolder: ServiceId | undefined
          let lastAt: DateTime.Utc | undefined
          for (const a of state.assignments.values()) {
            if (a.row.poolId === p.pool.id && a.slot === slot && a.row.releasedAt !== null) {
              if (lastAt === undefined || DateTime.greaterThan(a.row.releasedAt, lastAt)) {
                lastAt = a.row.releasedAt
                lastHolder = a.row.serviceId
              }
            }
          }
          if (lastHolder !== request.serviceId) return yield* new AddressInUse({ poolId: p.pool.id, address })
        }
        return [take(state, p, slot, id, now, request, request.assignmentType ?? "STATIC"), state] as const
      }))
  })

  const release = Effect.fn("IpAllocator.release")(function*(target: ReleaseTarget) {
    const now = yield* DateTime.now
    return yield* SynchronizedRef.modifyEffect(ref, (state) =>
      Effect.gen(function*() {
        let targets: Array<{ readonly row: IpAssignment; readonly slot: bigint }>
        if ("assignmentId" in target) {
          const a = state.assignments.get(target.assignmentId)
          if (a === undefined) return yield* new AssignmentNotFound({ assignmentId: target.assignmentId })
          if (a.row.releasedAt !== null) return [[a.row] as Array<IpAssignment>, state] as const
          targets = [a]
        } else {
          targets = [...state.assignments.values()].filter((a) =>
            a.row.serviceId === target.serviceId && a.row.releasedAt === null &&
            (target.poolId === undefined || a.row.poolId === target.poolId)
          )
        }
        const out: Array<IpAssignment> = []
        for (const a of targets) {
          const p = state.pools.get(a.row.poolId)!
          const until = DateTime.add(now, { seconds: p.pool.quarantineSeconds })
          const row = IpAssignment.make({ ...a.row, releasedAt: now, quarantineUntil: until })
          state.assignments.set(row.id, { row, slot: a.slot })
          p.live.delete(a.slot)
          p.released.delete(a.slot)
          p.released.set(a.slot, DateTime.toEpochMillis(until))
          out.push(row)
        }
        return [out, state] as const
      }))
  })

  const utilisation = Effect.fn("IpAllocator.utilisation")(function*(poolId: PoolId) {
    const nowMs = DateTime.toEpochMillis(yield* DateTime.now)
    const state = yield* SynchronizedRef.get(ref)
    const p = yield* poolState(state, poolId)
    let quarantined = 0n
    for (const at of p.released.values()) if (at > nowMs) quarantined++
    return PoolUtilisation.fromCounts(poolId, usableCount(p.space), BigInt(p.live.size), quarantined)
  })

  const findByServices = Effect.fn("IpAllocator.findByServices")(function*(serviceIds: ReadonlyArray<ServiceId>) {
    const wanted = new Set<string>(serviceIds)
    const state = yield* SynchronizedRef.get(ref)
    return [...state.assignments.values()]
      .filter((a) => a.row.releasedAt === null && wanted.has(a.row.serviceId))
      .map((a) => a.row)
  })

  return IpAllocator.of({
    createPool,
    getPool,
    listPools,
    allocate,
    allocateStatic,
    release,
    utilisation,
    findByService: (serviceId) => findByServices([serviceId]),
    findByServices
  })
})

/**
 * A fresh in-memory allocator.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<IpAllocator> = Layer.effect(IpAllocator, make)
