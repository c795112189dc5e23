/**
 * The IpAllocator contract: every implementation (memory, PGlite, PostgreSQL) runs these tests
 * unchanged. Run with a layer built once per file and the live clock (`excludeTestServices: true`):
 * quarantine is measured in real seconds by the database.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect, Either } from "effect"
import { randomUUID } from "node:crypto"
import type { CustomerId, PoolId, ServiceId } from "../../src/domain/Ids.js"
import type { IpAllocator as IpAllocatorService, NewIpPoolInput } from "../../src/ip/index.js"
import { IpAllocator } from "../../src/ip/index.js"

const serviceId = () => randomUUID() as ServiceId
const customerId = "cust-1" as CustomerId

// Each test takes its own CIDRs, so tests sharing one database never overlap.
let next = 0
const v4Prefix = () => {
  const n = next++
  return `10.${(n >> 8) & 255}.${n & 255}`
}
let next23 = 0
const v6Prefix40 = () => {
  const n = next++
  return `2001:db8:${(n & 255).toString(16)}00`
}

const errorTag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.either(effect), (r) => (Either.isLeft(r) ? r.left._tag : "success"))

const allocateMany = (ips: IpAllocatorService, poolId: PoolId, n: number) =>
  Effect.all(
    Array.from({ length: n }, () => Effect.either(ips.allocate({ poolId, serviceId: serviceId(), customerId }))),
    { concurrency: "unbounded" }
  )

export const ipAllocatorContract = (it: Vitest.MethodsNonLive<IpAllocator, true>) => {
  const create = (input: NewIpPoolInput) => Effect.flatMap(IpAllocator, (ips) => ips.createPool(input))

  it.effect("creates a pool with a normalised CIDR and lists it", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p = v4Prefix()
      const pool = yield* ips.createPool({ name: "lan", cidr: `${p}.77/24`, gateway: `${p}.1`, dnsServers: ["1.1.1.1"] })
      expect(pool.cidr).toBe(`${p}.0/24`)
      expect(pool.family).toBe(4)
      expect(pool.delegatedPrefixLength).toBe(32)
      expect(pool.quarantineSeconds).toBe(300)
      expect(yield* ips.getPool(pool.id)).toEqual(pool)
      expect((yield* ips.listPools()).map((x) => x.id)).toContain(pool.id)
      const u = yield* ips.utilisation(pool.id)
      expect([u.total, u.assigned, u.quarantined, u.free]).toEqual([253n, 0n, 0n, 253n])
    }))

  it.effect("rejects bad pools with typed errors and writes nothing", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const before = (yield* ips.listPools()).length
      const p = v4Prefix()
      yield* ips.createPool({ name: "base", cidr: `${p}.0/24` })
      expect(yield* errorTag(create({ name: "x", cidr: "10.0.0.300/24" }))).toBe("InvalidCidr")
      expect(yield* errorTag(create({ name: "x", cidr: "not a cidr" }))).toBe("InvalidCidr")
      expect(yield* errorTag(create({ name: "x", cidr: "10.9.9.0/33" }))).toBe("InvalidCidr")
      expect(yield* errorTag(create({ name: "x", cidr: "10.9.9.0" }))).toBe("InvalidCidr")
      expect(yield* errorTag(create({ name: "x", cidr: `${p}.128/25` }))).toBe("PoolOverlap")
      expect(yield* errorTag(create({ name: "x", cidr: `${p.split(".").slice(0, 2).join(".")}.0.0/16` }))).toBe(
        "PoolOverlap"
      )
      expect(yield* errorTag(create({ name: "x", cidr: "172.31.9.0/24", gateway: "172.31.10.1" }))).toBe(
        "InvalidAddress"
      )
      expect(yield* errorTag(create({ name: "x", cidr: "2001:db8:ffff::/40", delegatedPrefixLength: 32 }))).toBe(
        "InvalidCidr"
      )
      expect(yield* errorTag(create({ name: "x", cidr: "172.31.9.0/24", delegatedPrefixLength: 30 }))).toBe(
        "InvalidCidr"
      )
      expect((yield* ips.listPools()).length).toBe(before + 1)
      const overlap = yield* Effect.flip(create({ name: "x", cidr: `${p}.0/28` }))
      expect(overlap).toMatchObject({ _tag: "PoolOverlap", existingCidr: `${p}.0/24` })
      expect(yield* errorTag(ips.getPool(randomUUID() as PoolId))).toBe("PoolNotFound")
      expect(yield* errorTag(ips.allocate({ poolId: randomUUID() as PoolId, serviceId: serviceId(), customerId })))
        .toBe("PoolNotFound")
    }))

  it.effect("hands out every usable address once, skipping network, gateway, exclusions and broadcast", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p = v4Prefix()
      const pool = yield* ips.createPool({
        name: "tiny",
        cidr: `${p}.0/28`,
        gateway: `${p}.1`,
        excludedAddresses: [`${p}.3`],
        excludedRanges: [{ start: `${p}.8`, end: `${p}.12` }]
      })
      const got: Array<string> = []
      for (let i = 0; i < 7; i++) {
        const a = yield* ips.allocate({
          poolId: pool.id,
          serviceId: serviceId(),
          customerId,
          binding: { _tag: "PPPOE", username: `u${i}` }
        })
        expect(a).toMatchObject({ family: 4, assignmentType: "DYNAMIC", bindingType: "PPPOE", username: `u${i}` })
        expect(a.gateway).toBe(`${p}.1`)
        got.push(a.address)
      }
      expect(got.sort()).toEqual([2, 4, 5, 6, 7, 13, 14].map((n) => `${p}.${n}`).sort())
      const err = yield* Effect.flip(ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId }))
      expect(err).toMatchObject({ _tag: "PoolExhausted", poolId: pool.id })
      const u = yield* ips.utilisation(pool.id)
      expect([u.total, u.assigned, u.free, u.percentUsed]).toEqual([7n, 7n, 0n, 100])
    }))

  it.effect("allocate is idempotent per service and pool", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const pool = yield* ips.createPool({ name: "idem", cidr: `${v4Prefix()}.0/24` })
      const svc = serviceId()
      const [a, b, c] = yield* Effect.all(
        [0, 1, 2].map(() => ips.allocate({ poolId: pool.id, serviceId: svc, customerId })),
        { concurrency: "unbounded" }
      )
      expect(b!.id).toBe(a!.id)
      expect(c!.id).toBe(a!.id)
      expect((yield* ips.findByService(svc)).map((x) => x.id)).toEqual([a!.id])
      expect((yield* ips.utilisation(pool.id)).assigned).toBe(1n)
    }))

  it.effect("release quarantines: nobody else gets the address, its own service (sticky) does", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p = v4Prefix()
      const pool = yield* ips.createPool({ name: "q", cidr: `${p}.0/30`, quarantineSeconds: 3600 })
      const s1 = serviceId()
      const a1 = yield* ips.allocate({ poolId: pool.id, serviceId: s1, customerId })
      yield* ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId })
      const [released] = yield* ips.release({ assignmentId: a1.id })
      expect(released!.releasedAt).not.toBeNull()
      expect(released!.quarantineUntil).not.toBeNull()
      const u = yield* ips.utilisation(pool.id)
      expect([u.total, u.assigned, u.quarantined, u.free]).toEqual([2n, 1n, 1n, 0n])
      expect(yield* errorTag(ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId }))).toBe("PoolExhausted")
      const back = yield* ips.allocate({ poolId: pool.id, serviceId: s1, customerId })
      expect(back.address).toBe(a1.address)
      expect(back.id).not.toBe(a1.id)
      // Releasing again is a no-op that returns the row; unknown ids are typed errors.
      const again = yield* ips.release({ assignmentId: a1.id })
      expect(again.map((x) => x.id)).toEqual([a1.id])
      expect(yield* errorTag(ips.release({ assignmentId: randomUUID() as never }))).toBe("AssignmentNotFound")
    }))

  it.effect("sticky by MAC: a new service with the same DHCP MAC gets the previous address", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const pool = yield* ips.createPool({ name: "mac", cidr: `${v4Prefix()}.0/24`, quarantineSeconds: 0 })
      const mac = "AA:BB:CC:00:11:22"
      const a = yield* ips.allocate({
        poolId: pool.id,
        serviceId: serviceId(),
        customerId,
        binding: { _tag: "DHCP", macAddress: mac }
      })
      expect(a.macAddress).toBe(mac.toLowerCase())
      yield* ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId })
      yield* ips.release({ serviceId: a.serviceId })
      const b = yield* ips.allocate({
        poolId: pool.id,
        serviceId: serviceId(),
        customerId,
        binding: { _tag: "DHCP", macAddress: mac }
      })
      expect(b.address).toBe(a.address)
      // Without stickiness another free address is fine, but never a live one.
      const c = yield* ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId, sticky: false })
      expect(c.address).not.toBe(b.address)
    }))

  it.effect("released addresses become claimable by others once quarantine ends", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p = v4Prefix()
      const pool = yield* ips.createPool({ name: "q1", cidr: `${p}.0/30`, quarantineSeconds: 1 })
      const a = yield* ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId })
      yield* ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId })
      yield* ips.release({ assignmentId: a.id })
      expect(yield* errorTag(ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId }))).toBe("PoolExhausted")
      yield* Effect.sleep("1200 millis")
      const b = yield* ips.allocate({ poolId: pool.id, serviceId: serviceId(), customerId })
      expect(b.address).toBe(a.address)
    }))

  it.effect("static assignment: the requested address, typed errors, and dynamic never takes it", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p = v4Prefix()
      const pool = yield* ips.createPool({ name: "st", cidr: `${p}.0/29`, gateway: `${p}.1` })
      const s1 = serviceId()
      const st = yield* ips.allocateStatic({ poolId: pool.id, serviceId: s1, customerId, address: `${p}.5` })
      expect(st).toMatchObject({ address: `${p}.5`, assignmentType: "STATIC" })
      // Idempotent for the same service and address; Conflict for another address.
      expect((yield* ips.allocateStatic({ poolId: pool.id, serviceId: s1, customerId, address: `${p}.5` })).id).toBe(st.id)
      expect(yield* errorTag(ips.allocateStatic({ poolId: pool.id, serviceId: s1, customerId, address: `${p}.6` })))
        .toBe("Conflict")
      const tryStatic = (address: string) =>
        errorTag(ips.allocateStatic({ poolId: pool.id, serviceId: serviceId(), customerId, address }))
      expect(yield* tryStatic(`${p}.5`)).toBe("AddressInUse")
      expect(yield* tryStatic(`${p}.9`)).toBe("AddressOutsidePool")
      expect(yield* tryStatic(`${p}.1`)).toBe("AddressOutsidePool")
      expect(yield* tryStatic(`${p}.0`)).toBe("AddressOutsidePool")
      expect(yield* tryStatic(`${p}.7`)).toBe("AddressOutsidePool")
      expect(yield* tryStatic("banana")).toBe("InvalidAddress")
      expect(yield* tryStatic("2001:db8::1")).toBe("InvalidAddress")
      const before = yield* ips.utilisation(pool.id)
      expect(before.assigned).toBe(1n)
      const results = yield* allocateMany(ips, pool.id, 5)
      const addresses = results.filter(Either.isRight).map((r) => r.right.address)
      expect(addresses.sort()).toEqual([2, 3, 4, 6].map((n) => `${p}.${n}`))
      expect(results.filter(Either.isLeft).map((r) => r.left._tag)).toEqual(["PoolExhausted"])
      const reserved = yield* ips.createPool({ name: "res", cidr: `${v4Prefix()}.0/24` })
      const r = yield* ips.allocateStatic({
        poolId: reserved.id,
        serviceId: serviceId(),
        customerId,
        address: reserved.cidr.replace(".0/24", ".200"),
        assignmentType: "RESERVED"
      })
      expect(r.assignmentType).toBe("RESERVED")
    }))

  it.effect("a static address beyond the materialised part of a pool is never handed out dynamically", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const n = next23++
      // A /23 spans two blocks of 256: the static address sits in the second one.
      const pool = yield* ips.createPool({ name: "st23", cidr: `172.20.${2 * n}.0/23` })
      const high = `172.20.${2 * n + 1}.200`
      const st = yield* ips.allocateStatic({ poolId: pool.id, serviceId: serviceId(), customerId, address: high })
      const results = yield* allocateMany(ips, pool.id, 510)
      const addresses = results.filter(Either.isRight).map((r) => r.right.address)
      expect(addresses.length).toBe(509)
      expect(new Set(addresses).size).toBe(509)
      expect(addresses).not.toContain(st.address)
      expect(results.filter(Either.isLeft).length).toBe(1)
    }), 60_000)

  it.effect("IPv6: a /40 delegates aligned /56 prefixes; single-address pools skip the anycast address", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p = v6Prefix40()
      const pool = yield* ips.createPool({ name: "pd", cidr: `${p}::/40`, delegatedPrefixLength: 56 })
      expect(pool).toMatchObject({ family: 6, delegatedPrefixLength: 56 })
      expect((yield* ips.utilisation(pool.id)).total).toBe(65536n)
      const got = yield* allocateMany(ips, pool.id, 3)
      const prefixes = got.map((r) => Either.getOrThrow(r).address)
      expect(new Set(prefixes).size).toBe(3)
      expect(new Set(prefixes)).toEqual(new Set([`${p}::/56`, `${p}:100::/56`, `${p}:200::/56`]))
      const st = yield* ips.allocateStatic({ poolId: pool.id, serviceId: serviceId(), customerId, address: `${p.replace(/00$/, "ff")}::/56` })
      expect(st.address).toBe(`${p.replace(/00$/, "ff")}::/56`)
      expect(yield* errorTag(ips.allocateStatic({ poolId: pool.id, serviceId: serviceId(), customerId, address: `${p.replace(/00$/, "fe")}::/64` })))
        .toBe("AddressOutsidePool")
      const single = yield* ips.createPool({ name: "v6", cidr: `${v6Prefix40()}::/64` })
      expect(single.delegatedPrefixLength).toBe(128)
      const one = yield* ips.allocate({ poolId: single.id, serviceId: serviceId(), customerId })
      expect(one.address).toBe(single.cidr.replace("::/64", "::1"))
    }))

  it.effect("release by service frees all its live assignments; findByServices sees only live ones", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const p4 = yield* ips.createPool({ name: "a", cidr: `${v4Prefix()}.0/24` })
      const p6 = yield* ips.createPool({ name: "b", cidr: `${v6Prefix40()}::/40`, delegatedPrefixLength: 56 })
      const svc = serviceId()
      const other = serviceId()
      yield* ips.allocate({ poolId: p4.id, serviceId: svc, customerId })
      yield* ips.allocate({ poolId: p6.id, serviceId: svc, customerId })
      yield* ips.allocate({ poolId: p4.id, serviceId: other, customerId })
      expect((yield* ips.findByServices([svc, other])).length).toBe(3)
      const released = yield* ips.release({ serviceId: svc })
      expect(released.length).toBe(2)
      expect(yield* ips.findByService(svc)).toEqual([])
      expect((yield* ips.findByServices([svc, other])).map((a) => a.serviceId)).toEqual([other])
      expect(yield* ips.release({ serviceId: svc })).toEqual([])
    }))

  it.effect("concurrent fibers never share an address and exhaustion is exact", () =>
    Effect.gen(function*() {
      const ips = yield* IpAllocator
      const pool = yield* ips.createPool({ name: "race", cidr: `${v4Prefix()}.0/26` })
      const results = yield* allocateMany(ips, pool.id, 70)
      const ok = results.filter(Either.isRight).map((r) => r.right.address)
      expect(ok.length).toBe(62)
      expect(new Set(ok).size).toBe(62)
      expect(results.filter(Either.isLeft).map((r) => r.left._tag)).toEqual(Array(8).fill("PoolExhausted"))
    }))
}
